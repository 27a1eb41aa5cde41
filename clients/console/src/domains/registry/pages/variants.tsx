import { useVariants } from './variant-picker.tsx';

const when = (at: string | null) => (at === null ? 'never' : new Date(at).toLocaleString());

/** The registry's variants: the supergraph each serves and the subgraph versions it was composed from. */
export function SchemaVariantsPage() {
  const { variants, error } = useVariants();
  return (
    <section>
      <h2>Schema variants</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      {variants === null ? (
        <p>Loading…</p>
      ) : variants.length === 0 ? (
        <p>Nothing published yet: the routers serve the committed supergraph. Publish with `tansu schema publish`.</p>
      ) : (
        variants.map((variant) => (
          <article key={variant.name} data-variant={variant.name} className="card">
            <h3>
              {variant.name} {variant.served ? <span className="badge">served here</span> : null}
            </h3>
            <p>
              Supergraph {variant.supergraphId ?? '(committed file)'}, published {when(variant.publishedAt)}; {variant.documentCount} registered operations.
            </p>
            <table aria-label={`Subgraphs of ${variant.name}`}>
              <thead>
                <tr>
                  <th>Subgraph</th>
                  <th>URL</th>
                  <th>Version</th>
                  <th>Published</th>
                  <th>By</th>
                  <th>SDL</th>
                </tr>
              </thead>
              <tbody>
                {variant.subgraphs.map((s) => (
                  <tr key={s.name} data-subgraph={s.name}>
                    <td>{s.name}</td>
                    <td>{s.url}</td>
                    <td>{s.versionId}</td>
                    <td>{when(s.publishedAt)}</td>
                    <td>{s.publishedBy ?? ''}</td>
                    <td>
                      <code title={s.sdlHash}>{s.sdlHash.slice(0, 12)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </article>
        ))
      )}
    </section>
  );
}
