import type { GraphQLResolverMap } from '@apollo/subgraph';
import { productByUpc, products, reviewById, reviewsByAuthor, reviewsByProduct, userById, users, type Product, type Review } from './data.ts';

export type SubgraphName = 'accounts' | 'products' | 'reviews' | 'inventory';
export const SUBGRAPH_NAMES: readonly SubgraphName[] = ['accounts', 'products', 'reviews', 'inventory'];

const accounts: GraphQLResolverMap = {
  Query: {
    me: () => users[0],
    users: () => users,
    user: (_: unknown, args: { id: string }) => userById.get(args.id) ?? null,
  },
  User: {
    __resolveReference: (ref: { id: string }) => userById.get(ref.id) ?? null,
  },
};

const productsResolvers: GraphQLResolverMap = {
  Query: {
    topProducts: (_: unknown, args: { first?: number }) => products.slice(0, args.first ?? 5),
  },
  Product: {
    __resolveReference: (ref: { upc: string }) => productByUpc.get(ref.upc) ?? null,
  },
};

const reviewsResolvers: GraphQLResolverMap = {
  Review: {
    __resolveReference: (ref: { id: string }) => reviewById.get(ref.id) ?? null,
    author: (r: Review) => ({ id: r.authorId }),
    product: (r: Review) => ({ upc: r.productUpc }),
  },
  User: {
    // Entity stubs from the router carry only the key; reviews are looked up by it.
    reviews: (u: { id: string }) => reviewsByAuthor.get(u.id) ?? [],
  },
  Product: {
    reviews: (p: { upc: string }) => reviewsByProduct.get(p.upc) ?? [],
  },
};

const inventory: GraphQLResolverMap = {
  Product: {
    // `price` and `weight` arrive in the representation thanks to @requires.
    __resolveReference: (ref: Pick<Product, 'upc'> & Partial<Product>) => ref,
    inStock: (p: { upc: string }) => Number(p.upc) % 3 !== 0,
    shippingEstimate: (p: Partial<Product>) => {
      if (p.price === undefined || p.weight === undefined) return null;
      // Expensive items ship free; otherwise cost scales with weight.
      return p.price > 1000 ? 0 : Math.round(p.weight / 2);
    },
  },
};

export const RESOLVERS: Record<SubgraphName, GraphQLResolverMap> = {
  accounts,
  products: productsResolvers,
  reviews: reviewsResolvers,
  inventory,
};
