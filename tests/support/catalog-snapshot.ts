import type pg from 'pg';

/**
 * A database's schema as sorted text, one fact per line, for comparing two databases migrated
 * different ways (there is no pg_dump beside embedded Postgres). It holds what migrations make
 * in every non-system schema, the application role's grants, the rows migrations seed and the
 * applied migration names; nothing that differs between two runs (OIDs, timestamps, the database's name).
 */

// Schemas of the server itself, not of the migrations.
const USER_NAMESPACE = `(n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%')`;

// Objects an extension brought in are the extension's, listed once as the extension.
const NOT_EXTENSION_MEMBER = (catalog: string, oid: string) =>
  `not exists (select 1 from pg_depend d where d.classid = '${catalog}'::regclass and d.objid = ${oid} and d.deptype = 'e')`;

const qualified = (schema: string, name: string) => `quote_ident(${schema}) || '.' || quote_ident(${name})`;

/** Each query yields rows of one column, `line`. */
const factQueries = (role: string): string[] => [
  `select 'schema ' || quote_ident(n.nspname) as line from pg_namespace n where ${USER_NAMESPACE}`,

  `select 'extension ' || quote_ident(e.extname) || ' schema=' || quote_ident(n.nspname) as line
     from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname <> 'plpgsql'`,

  `select 'type ' || format_type(t.oid, null) || ' kind=' || t.typtype::text
          || case when t.typtype = 'e' then ' labels=' || (select string_agg(quote_literal(e.enumlabel), ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid) else '' end
          || case when t.typtype = 'd' then ' base=' || format_type(t.typbasetype, t.typtypmod) || case when t.typnotnull then ' not_null' else '' end || coalesce(' default=' || t.typdefault, '') else '' end as line
     from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where ${USER_NAMESPACE} and t.typtype in ('e', 'd', 'r', 'm')
      and ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}`,

  `select 'table ' || ${qualified('n.nspname', 'c.relname')} || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
          || ' rls=' || case when c.relrowsecurity then 'on' else 'off' end
          || ' force_rls=' || case when c.relforcerowsecurity then 'on' else 'off' end
          || ' replica_identity=' || c.relreplident::text
          || coalesce(' options=' || array_to_string(c.reloptions, ','), '')
          || case when c.relispartition then ' partition_of=' || (select i.inhparent::regclass::text from pg_inherits i where i.inhrelid = c.oid) || ' ' || pg_get_expr(c.relpartbound, c.oid) else '' end as line
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where ${USER_NAMESPACE} and c.relkind in ('r', 'p', 'f', 'v', 'm')
      and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`,

  // Columns are numbered among live ones: their order is part of the table.
  `select 'column ' || ${qualified('n.nspname', 'c.relname')} || ' #' || lpad((row_number() over (partition by c.oid order by a.attnum))::text, 3, '0')
          || ' ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
          || case when a.attnotnull then ' not_null' else '' end
          || case when a.attidentity::text <> '' then ' identity=' || a.attidentity::text else '' end
          || case when a.attgenerated::text <> '' then ' generated=' || a.attgenerated::text || ' ' || pg_get_expr(ad.adbin, ad.adrelid)
                  when ad.adbin is not null then ' default=' || pg_get_expr(ad.adbin, ad.adrelid) else '' end
          || case when a.attcollation <> 0 and a.attcollation <> t.typcollation then ' collate=' || (select co.collname from pg_collation co where co.oid = a.attcollation) else '' end as line
     from pg_attribute a
     join pg_class c on c.oid = a.attrelid
     join pg_namespace n on n.oid = c.relnamespace
     join pg_type t on t.oid = a.atttypid
     left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
    where ${USER_NAMESPACE} and c.relkind in ('r', 'p', 'f', 'v', 'm') and a.attnum > 0 and not a.attisdropped
      and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`,

  `select 'constraint ' || coalesce(${qualified('n.nspname', 'c.relname')}, format_type(co.contypid, null)) || ' ' || quote_ident(co.conname)
          || ' ' || pg_get_constraintdef(co.oid) as line
     from pg_constraint co
     join pg_namespace n on n.oid = co.connamespace
     left join pg_class c on c.oid = co.conrelid
    where ${USER_NAMESPACE} and ${NOT_EXTENSION_MEMBER('pg_constraint', 'co.oid')}`,

  `select 'index ' || ${qualified('n.nspname', 'ic.relname')} || ' ' || pg_get_indexdef(i.indexrelid)
          || case when not i.indisvalid then ' invalid' else '' end
          || case when i.indisclustered then ' clustered' else '' end as line
     from pg_index i
     join pg_class ic on ic.oid = i.indexrelid
     join pg_namespace n on n.oid = ic.relnamespace
    where ${USER_NAMESPACE} and ${NOT_EXTENSION_MEMBER('pg_class', 'i.indrelid')}`,

  `select 'policy ' || ${qualified('n.nspname', 'c.relname')} || ' ' || quote_ident(p.polname)
          || ' cmd=' || p.polcmd::text || ' ' || case when p.polpermissive then 'permissive' else 'restrictive' end
          || ' roles=' || (select string_agg(case when r = 0 then 'public' else quote_ident(pg_get_userbyid(r)) end, ',' order by case when r = 0 then 'public' else pg_get_userbyid(r)::text end) from unnest(p.polroles) r)
          || coalesce(' using=(' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
          || coalesce(' check=(' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') as line
     from pg_policy p
     join pg_class c on c.oid = p.polrelid
     join pg_namespace n on n.oid = c.relnamespace
    where ${USER_NAMESPACE}`,

  `select 'trigger ' || ${qualified('n.nspname', 'c.relname')} || ' ' || quote_ident(t.tgname) || ' enabled=' || t.tgenabled::text || ' ' || pg_get_triggerdef(t.oid) as line
     from pg_trigger t
     join pg_class c on c.oid = t.tgrelid
     join pg_namespace n on n.oid = c.relnamespace
    where ${USER_NAMESPACE} and not t.tgisinternal`,

  // A definition spans lines: each becomes a fact of its own, numbered, so a diff points at it.
  `select 'function ' || ${qualified('n.nspname', 'p.proname')} || '(' || pg_get_function_identity_arguments(p.oid) || ') L'
          || lpad(l.n::text, 3, '0') || ' ' || l.text as line
     from pg_proc p
     join pg_namespace n on n.oid = p.pronamespace
     cross join lateral regexp_split_to_table(rtrim(pg_get_functiondef(p.oid), E'\\n'), E'\\n') with ordinality as l(text, n)
    where ${USER_NAMESPACE} and p.prokind in ('f', 'p', 'w')
      and ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}`,

  `select 'aggregate ' || ${qualified('n.nspname', 'p.proname')} || '(' || pg_get_function_identity_arguments(p.oid) || ')' as line
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where ${USER_NAMESPACE} and p.prokind = 'a' and ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}`,

  `select 'view ' || ${qualified('n.nspname', 'c.relname')} || ' L' || lpad(l.n::text, 3, '0') || ' ' || l.text as line
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     cross join lateral regexp_split_to_table(pg_get_viewdef(c.oid, true), E'\\n') with ordinality as l(text, n)
    where ${USER_NAMESPACE} and c.relkind in ('v', 'm') and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`,

  `select 'sequence ' || ${qualified('n.nspname', 'c.relname')} || ' type=' || format_type(s.seqtypid, null)
          || ' start=' || s.seqstart || ' increment=' || s.seqincrement || ' min=' || s.seqmin || ' max=' || s.seqmax
          || ' cache=' || s.seqcache || case when s.seqcycle then ' cycle' else '' end
          || coalesce(' owned_by=' || (select ${qualified('tn.nspname', 'tc.relname')} || '.' || quote_ident(a.attname)
                                         from pg_depend d
                                         join pg_class tc on tc.oid = d.refobjid
                                         join pg_namespace tn on tn.oid = tc.relnamespace
                                         join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
                                        where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')), '') as line
     from pg_sequence s
     join pg_class c on c.oid = s.seqrelid
     join pg_namespace n on n.oid = c.relnamespace
    where ${USER_NAMESPACE} and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`,

  // Grants, read from the ACLs themselves: to the application role and to everyone (PUBLIC). An
  // object never granted on has no ACL and means its kind's default (functions: EXECUTE to PUBLIC).
  `select 'grant ' || x.privilege_type || ' on schema ' || quote_ident(n.nspname) || ' to ' || ${grantee('x.grantee')} || ${grantable('x.is_grantable')} as line
     from pg_namespace n cross join lateral aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) x
    where ${USER_NAMESPACE} and ${granteeFilter('x.grantee', role)}`,

  `select 'grant ' || x.privilege_type || ' on ' || case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'view' else 'table' end
          || ' ' || ${qualified('n.nspname', 'c.relname')} || ' to ' || ${grantee('x.grantee')} || ${grantable('x.is_grantable')} as line
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     cross join lateral aclexplode(coalesce(c.relacl, acldefault(case when c.relkind = 'S' then 's' else 'r' end::"char", c.relowner))) x
    where ${USER_NAMESPACE} and ${granteeFilter('x.grantee', role)}`,

  `select 'grant ' || x.privilege_type || ' (' || quote_ident(a.attname) || ') on table ' || ${qualified('n.nspname', 'c.relname')}
          || ' to ' || ${grantee('x.grantee')} || ${grantable('x.is_grantable')} as line
     from pg_attribute a
     join pg_class c on c.oid = a.attrelid
     join pg_namespace n on n.oid = c.relnamespace
     cross join lateral aclexplode(a.attacl) x
    where ${USER_NAMESPACE} and a.attnum > 0 and not a.attisdropped and ${granteeFilter('x.grantee', role)}`,

  `select 'grant ' || x.privilege_type || ' on function ' || ${qualified('n.nspname', 'p.proname')} || '(' || pg_get_function_identity_arguments(p.oid) || ')'
          || ' to ' || ${grantee('x.grantee')} || ${grantable('x.is_grantable')} as line
     from pg_proc p
     join pg_namespace n on n.oid = p.pronamespace
     cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
    where ${USER_NAMESPACE} and ${granteeFilter('x.grantee', role)}`,

  `select 'default_grant ' || x.privilege_type || ' on ' || da.defaclobjtype::text || ' in ' || coalesce(quote_ident(n.nspname), '*')
          || ' to ' || ${grantee('x.grantee')} || ${grantable('x.is_grantable')} as line
     from pg_default_acl da
     left join pg_namespace n on n.oid = da.defaclnamespace
     cross join lateral aclexplode(da.defaclacl) x
    where ${granteeFilter('x.grantee', role)}`,

  `select 'role ' || quote_ident(r.rolname)
          || ' login=' || r.rolcanlogin || ' superuser=' || r.rolsuper || ' bypassrls=' || r.rolbypassrls
          || ' createdb=' || r.rolcreatedb || ' createrole=' || r.rolcreaterole || ' inherit=' || r.rolinherit as line
     from pg_roles r where r.rolname = ${literal(role)}`,
];

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function grantee(column: string): string {
  return `case when ${column} = 0 then 'PUBLIC' else quote_ident(pg_get_userbyid(${column})) end`;
}

function grantable(column: string): string {
  return `case when ${column} then ' with_grant_option' else '' end`;
}

function granteeFilter(column: string, role: string): string {
  return `(${column} = 0 or ${column} = (select oid from pg_roles where rolname = ${literal(role)}))`;
}

/** Code-unit order: the same on every machine, unlike a locale's collation. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function lines(client: pg.Client, sql: string): Promise<string[]> {
  const result = await client.query<{ line: string | null }>(sql);
  return result.rows.map((row) => {
    if (row.line === null) throw new Error(`A catalog fact came out empty:\n${sql}`);
    return row.line.trimEnd();
  });
}

// Dates and times come from the clock: only whether one is set is compared.
const CLOCK_TYPES = `('date'::regtype, 'time'::regtype, 'timetz'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)`;

/** Rows the migrations seed (every table's rows but the migration log's), one fact per row. */
async function seededRows(client: pg.Client): Promise<string[]> {
  const tables = await client.query<{ name: string; clock_columns: string[] }>(
    `select ${qualified('n.nspname', 'c.relname')} as name,
            array(select a.attname::text from pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                     and a.atttypid in ${CLOCK_TYPES}
                   order by a.attnum) as clock_columns
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where ${USER_NAMESPACE} and c.relkind in ('r', 'p') and not c.relispartition
        and c.oid <> to_regclass('public.tansu_migrations')
        and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`,
  );
  const facts: string[] = [];
  for (const table of tables.rows) {
    const masked = table.clock_columns.map((column) => {
      const name = literal(column);
      return ` || jsonb_build_object(${name}, case when to_jsonb(t) -> ${name} = 'null'::jsonb then null else '<clock>' end)`;
    });
    const rows = await client.query<{ line: string }>(
      `select 'row ' || ${literal(table.name)} || ' ' || (to_jsonb(t)${masked.join('')})::text as line from ${table.name} t`,
    );
    facts.push(...rows.rows.map((row) => row.line));
  }
  return facts;
}

async function appliedMigrations(client: pg.Client): Promise<string[]> {
  const table = await client.query<{ present: boolean }>(`select to_regclass('public.tansu_migrations') is not null as present`);
  if (table.rows[0]?.present !== true) return [];
  const rows = await client.query<{ name: string }>(`select name from public.tansu_migrations order by id`);
  return rows.rows.map((row, index) => `migration ${String(index + 1).padStart(4, '0')} ${row.name}`);
}

export async function catalogSnapshot(client: pg.Client, options: { role?: string } = {}): Promise<string> {
  const role = options.role ?? 'tansu_app';
  // The deparsing functions qualify a name unless the search path finds it: an empty path
  // (pg_catalog alone) qualifies every object of ours the same way whatever the connection's path.
  await client.query('begin isolation level repeatable read read only');
  try {
    await client.query(`select set_config('search_path', 'pg_catalog', true)`);
    const facts: string[] = [];
    for (const sql of factQueries(role)) facts.push(...(await lines(client, sql)));
    facts.push(...(await seededRows(client)));
    facts.push(...(await appliedMigrations(client)));
    await client.query('commit');
    return `${facts.sort(byCodeUnit).join('\n')}\n`;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
