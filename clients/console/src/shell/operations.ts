import { graphql } from '@tansu/client';

// What the console's frame asks: who is signed in.

export const ME = graphql(`
  query ConsoleMe {
    me {
      id
      email
      roles
      tenant {
        slug
        name
      }
    }
  }
`);
