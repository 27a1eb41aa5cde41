import { useCallback, useEffect, useState } from 'react';
import type { TadaDocumentNode } from '@tansu/client';
import { consoleClient } from './session.ts';

/** One query's data for a screen, with a way to load it again after a change. */
export function useQuery<Result, Variables>(document: TadaDocumentNode<Result, Variables>, variables?: Variables) {
  const [data, setData] = useState<Result | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(variables ?? null);
  const reload = useCallback(() => {
    const client = consoleClient();
    if (client === undefined) return;
    client
      .request(document, variables)
      .then((result) => {
        setData(result);
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [document, key]);
  useEffect(reload, [reload]);
  return { data, error, reload, setError };
}
