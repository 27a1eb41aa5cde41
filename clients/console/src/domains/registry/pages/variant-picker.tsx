import { SCHEMA_VARIANTS } from '../operations.ts';
import { useQuery } from '../../../shell/use-query.ts';

/** The variants to choose from, the served one first chosen; null until they are read. */
export function useVariants() {
  const { data, error } = useQuery(SCHEMA_VARIANTS);
  const variants = data?.schemaVariants ?? null;
  return { variants, error, served: variants?.find((v) => v.served)?.name ?? variants?.[0]?.name ?? null };
}

export function VariantPicker({ variants, value, onChange }: { variants: readonly { name: string }[]; value: string; onChange: (name: string) => void }) {
  return (
    <label className="inline-label">
      Variant{' '}
      <select name="variant" value={value} onChange={(e) => onChange(e.target.value)}>
        {variants.map((v) => (
          <option key={v.name} value={v.name}>
            {v.name}
          </option>
        ))}
      </select>
    </label>
  );
}
