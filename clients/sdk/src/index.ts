export { createTansuClient, type TansuClient, type TansuClientOptions, type RequestOptions } from './client.ts';
export { graphql, readFragment, type ResultOf, type VariablesOf, type FragmentOf, type TadaDocumentNode } from './graphql.ts';
export { TansuError, MfaRequiredError, isStepUpRequired, type TansuErrorCode, type GraphQLErrorEntry } from './errors.ts';
export { memoryStore, webStorageStore, type Session, type SessionStore } from './session-store.ts';
export { persistedManifest, documentId, type PersistedManifest } from './manifest.ts';
export { SDK_OPERATIONS } from './auth-operations.ts';
export type { SubscriptionHandlers, SubscribeOptions } from './subscriptions.ts';
export type { FlowStorage } from './oidc.ts';
