import { useCallback, useEffect, useRef, useState } from 'react';
import type { TadaDocumentNode } from '@tansu/client';
import { consoleClient } from './session.ts';

/** One query's data for a screen, with a way to load it again after a change. */
export function useQuery<Result, Variables>(document: TadaDocumentNode<Result, Variables>, variables?: Variables) {
  const [data, setData] = useState<Result | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  // Only the newest request is shown: a slower earlier answer (other variables) does not overwrite it.
  const latest = useRef(0);
  const key = JSON.stringify(variables ?? null);
  const reload = useCallback(() => {
    const client = consoleClient();
    if (client === undefined) return;
    const mine = ++latest.current;
    client
      .request(document, variables)
      .then((result) => {
        if (mine !== latest.current) return;
        setData(result);
        setError(null);
      })
      .catch((e: unknown) => mine === latest.current && setError(e instanceof Error ? e.message : String(e)));
  }, [document, key]);
  useEffect(() => {
    reload();
    // Unmounted or changed: an answer still on its way is dropped.
    return () => void (latest.current += 1);
  }, [reload]);
  return { data, error, reload, setError };
}
