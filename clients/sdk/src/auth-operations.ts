import { graphql } from './graphql.ts';

// The SDK's own operations: the public ones a signed-out app calls, and the session's refresh.
// Whole literals (no interpolation): their types are inferred from the text.

export const SIGN_UP = graphql(`
  mutation TansuSignUp($input: SignUpInput!) {
    signUp(input: $input) {
      accessToken
      refreshToken
      expiresIn
      user {
        id
        email
      }
    }
  }
`);

export const SIGN_IN = graphql(`
  mutation TansuSignIn($input: SignInInput!) {
    signIn(input: $input) {
      accessToken
      refreshToken
      expiresIn
      user {
        id
        email
      }
    }
  }
`);

export const VERIFY_MFA = graphql(`
  mutation TansuVerifyMfa($input: VerifyMfaInput!) {
    verifyMfa(input: $input) {
      accessToken
      refreshToken
      expiresIn
      user {
        id
        email
      }
    }
  }
`);

export const REFRESH = graphql(`
  mutation TansuRefresh($input: RefreshTokenInput!) {
    refreshToken(input: $input) {
      accessToken
      refreshToken
      expiresIn
      user {
        id
        email
      }
    }
  }
`);

export const START_PASSKEY_SIGN_IN = graphql(`
  mutation TansuStartPasskeySignIn($input: StartPasskeySignInInput!) {
    startPasskeySignIn(input: $input) {
      challengeId
      options
    }
  }
`);

export const FINISH_PASSKEY_SIGN_IN = graphql(`
  mutation TansuFinishPasskeySignIn($input: FinishPasskeySignInInput!) {
    finishPasskeySignIn(input: $input) {
      accessToken
      refreshToken
      expiresIn
      user {
        id
        email
      }
    }
  }
`);

export const STEP_UP = graphql(`
  mutation TansuStepUp($code: String!) {
    stepUp(code: $code) {
      accessToken
      refreshToken
      expiresIn
      user {
        id
        email
      }
    }
  }
`);

export const ENROLL_TOTP = graphql(`
  mutation TansuEnrollTotp($input: EnrollTotpInput) {
    enrollTotp(input: $input) {
      factorId
      secret
      uri
    }
  }
`);

export const CONFIRM_TOTP = graphql(`
  mutation TansuConfirmTotp($input: ConfirmTotpInput!) {
    confirmTotp(input: $input) {
      recoveryCodes
      session {
        accessToken
        refreshToken
        expiresIn
        user {
          id
          email
        }
      }
    }
  }
`);

/** Every operation the SDK itself sends, for its persisted-document manifest. */
export const SDK_OPERATIONS = [SIGN_UP, SIGN_IN, VERIFY_MFA, REFRESH, START_PASSKEY_SIGN_IN, FINISH_PASSKEY_SIGN_IN, STEP_UP, ENROLL_TOTP, CONFIRM_TOTP];
