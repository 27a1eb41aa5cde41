import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Session, SessionStore } from '@tansu/client';

/** A signed-in profile: where the platform is and the session's tokens; never a password. */
export interface Profile {
  url: string;
  tenant: string;
  email: string;
  session: Session | null;
}

type ProfileFile = Record<string, Profile>;

/** `$TANSU_CONFIG_DIR`, else `$XDG_CONFIG_HOME/tansu`, else `~/.config/tansu`. */
export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.TANSU_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'tansu');
  return join(dir, 'profiles.json');
}

async function readAll(path: string): Promise<ProfileFile> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '{}';
    throw error;
  });
  try {
    return JSON.parse(text) as ProfileFile;
  } catch {
    throw new Error(`${path} is not valid JSON: fix or delete it, then log in again`);
  }
}

/** Written whole and renamed into place, readable by its owner only: it holds refresh tokens. */
async function writeAll(path: string, profiles: ProfileFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(profiles, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export function createProfiles(path = profilesPath()) {
  return {
    path,
    async get(name: string): Promise<Profile | undefined> {
      return (await readAll(path))[name];
    },
    async put(name: string, profile: Profile): Promise<void> {
      const all = await readAll(path);
      all[name] = profile;
      await writeAll(path, all);
    },
    async remove(name: string): Promise<boolean> {
      const all = await readAll(path);
      if (all[name] === undefined) return false;
      delete all[name];
      await writeAll(path, all);
      return true;
    },
    /** The profile's session as the SDK keeps it: a refresh rotates the tokens on disk. */
    sessionStore(name: string): SessionStore {
      return {
        load: async () => (await readAll(path))[name]?.session ?? null,
        save: async (session) => {
          const all = await readAll(path);
          const profile = all[name];
          if (profile === undefined) return;
          all[name] = { ...profile, session };
          await writeAll(path, all);
        },
        clear: async () => {
          const all = await readAll(path);
          const profile = all[name];
          if (profile === undefined) return;
          all[name] = { ...profile, session: null };
          await writeAll(path, all);
        },
      };
    },
  };
}

export type Profiles = ReturnType<typeof createProfiles>;
