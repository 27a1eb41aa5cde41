// Deterministic fixtures shared by the four benchmark subgraphs. Sizes are chosen
// so the nested benchmark query returns a response of the same order as the public
// federation benchmark (~88 KB): every review's product fans out to its reviews,
// whose authors fan out to their reviews again.

export interface User {
  id: string;
  name: string;
  username: string;
  birthDate: string;
}

export interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

export interface Review {
  id: string;
  body: string;
  authorId: string;
  productUpc: string;
}

export const USER_COUNT = Number(process.env.BENCH_USERS ?? 20);
export const REVIEWS_PER_USER = Number(process.env.BENCH_REVIEWS_PER_USER ?? 2);
export const PRODUCT_COUNT = Number(process.env.BENCH_PRODUCTS ?? 10);

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Berners-Lee'];
const ADJ = ['sturdy', 'elegant', 'overpriced', 'reliable', 'noisy', 'compact', 'lightweight', 'durable'];
const NOUN = ['Chair', 'Table', 'Lamp', 'Kettle', 'Backpack', 'Monitor', 'Keyboard', 'Bicycle'];
const OPINION = [
  'Works exactly as described and arrived on time.',
  'Would buy again, although the packaging could be better.',
  'Not what I expected, but customer service was helpful.',
  'Solid build quality for the price; recommended.',
  'Stopped working after a month, replacement was quick.',
];

export const users: User[] = [];
export const products: Product[] = [];
export const reviews: Review[] = [];

for (let i = 1; i <= USER_COUNT; i++) {
  users.push({
    id: String(i),
    name: `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]}`,
    username: `@user${i}`,
    birthDate: `19${70 + (i % 30)}-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
  });
}

for (let i = 1; i <= PRODUCT_COUNT; i++) {
  products.push({
    upc: String(i),
    name: `${ADJ[i % ADJ.length]} ${NOUN[(i * 3) % NOUN.length]} ${i}`,
    price: 10 + ((i * 137) % 1500),
    weight: 1 + ((i * 31) % 200),
  });
}

let reviewId = 0;
for (const user of users) {
  for (let k = 0; k < REVIEWS_PER_USER; k++) {
    reviewId++;
    const product = products[(Number(user.id) * REVIEWS_PER_USER + k * 7) % PRODUCT_COUNT]!;
    reviews.push({
      id: String(reviewId),
      body: `Review ${reviewId} of ${product.name}: ${OPINION[reviewId % OPINION.length]}`,
      authorId: user.id,
      productUpc: product.upc,
    });
  }
}

export const userById = new Map(users.map((u) => [u.id, u]));
export const productByUpc = new Map(products.map((p) => [p.upc, p]));
export const reviewById = new Map(reviews.map((r) => [r.id, r]));

function groupBy(key: (r: Review) => string): Map<string, Review[]> {
  const out = new Map<string, Review[]>();
  for (const r of reviews) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

export const reviewsByAuthor = groupBy((r) => r.authorId);
export const reviewsByProduct = groupBy((r) => r.productUpc);
