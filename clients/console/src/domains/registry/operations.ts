import { graphql } from '@tansu/client';

// The schema registry's screens (platform administrators): variants, checks with their reports, usage by field.

export const SCHEMA_VARIANTS = graphql(`
  query ConsoleSchemaVariants {
    schemaVariants {
      name
      served
      supergraphId
      publishedAt
      documentCount
      subgraphs {
        name
        url
        versionId
        publishedAt
        publishedBy
        sdlHash
      }
    }
  }
`);

export const SCHEMA_CHECKS = graphql(`
  query ConsoleSchemaChecks($variant: String!, $subgraph: String, $after: String) {
    schemaChecks(variant: $variant, subgraph: $subgraph, first: 20, after: $after) {
      nodes {
        id
        subgraph
        passed
        sdlHash
        createdAt
        report {
          compositionErrors
          usageAware
          changes {
            kind
            level
            coordinate
            message
            blocking
            uses
            operations
          }
          documentErrors {
            name
            errors
          }
        }
      }
      endCursor
      hasMore
    }
  }
`);

export const SCHEMA_USAGE = graphql(`
  query ConsoleSchemaUsage($variant: String!, $days: Int!) {
    schemaUsage(variant: $variant, days: $days) {
      coordinate
      count
      isDeprecated
      deprecationReason
      operations {
        id
        name
        count
      }
    }
  }
`);
