/**
 * Hardware cost profiles: what each counted event costs on a given machine,
 * every figure with its source. Profiles are data files in `profiles/`
 * (NAME.json), checked by a strict schema: a parameter without a value, with a
 * negative value or without a source is refused with one line naming the file,
 * line:column and parameter. A profile may `extend` another and replace some of
 * its parameters (i486-50-mach is i486-50-l3 with Mach's IPC).
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { packageDir } from '../paths.js';
import { z } from 'zod';
import { jsonSchemaOf, type JsonSchemaNode } from '../workload/json-schema.js';
import { loadJsonFile, WorkloadError, type JsonFileKind } from '../workload/load.js';

export const PROFILE_DIR = packageDir('profiles');

/**
 * The parameters, in the order they are priced and printed. Times are µs unless
 * the name says otherwise; a `PerKiB` cost is per 1024 bytes.
 */
export const PARAMS = {
  cores: "processors that can run domains at the same time (count; for the host, the processors' worth of work its domains were seen to get done at once)",
  syscallUs: "the monolithic kernel's system call: kernel entry and exit (µs)",
  ipcEntryUs: "the microkernel's kernel entry and exit for one IPC message (µs)",
  contextSwitchUs: 'switching from one address space (domain) to another (µs)',
  ipcOneWayUs: 'one short IPC message from one domain to another, everything included (µs)',
  ipcCopiesPerMessage:
    "how many times the microkernel's IPC copies each byte a message carries by value: 2 through a kernel buffer (copied in, then out: Mach, pipes), 1 straight from sender to receiver (L3, L4, seL4) (copies)",
  copyUsPerKiB: 'one copy from memory to memory (µs per KiB copied once)',
  checksumUsPerKiB: 'the Internet checksum (RFC 1071) in software (µs per KiB)',
  frameUs: 'protocol stack and driver work per frame sent or received, without checksum or copies (µs)',
  appRequestUs: "the application's own work per request: parse, decide, build the reply header (µs)",
  wireUsPerKiB: "the simulated clients' work per KiB of response on the server's processors (µs per KiB; 0 on a real machine)",
  wireRequestUsPerKiB: "the simulated clients' work per KiB of request they make (a WRITE's data) on the server's processors (µs per KiB; 0 on a real machine)",
  diskPositionMs: 'average positioning (seek) per disk access (ms)',
  diskRotationMs: 'average rotational latency, half a revolution (ms; 0 for an SSD)',
  diskTransferMBps: 'media transfer rate (MB/s, 10^6 bytes)',
  diskOnCpu: "1 if the disk's transfers run on the disk server's processor (a RAM disk, as on the host), else 0",
} as const;

/** The name of one cost parameter (a key of PARAMS). */
export type ParamName = keyof typeof PARAMS;
/** Every parameter's name, in the order they are priced and printed. */
export const PARAM_NAMES = Object.keys(PARAMS) as ParamName[];

const ParamSchema = z.strictObject({
  value: z.number().min(0).max(1e9),
  unit: z.string().min(1).max(24),
  /** Where the value comes from: the publication and its table, or the command that measured it. */
  source: z.string().min(3).max(2000),
  /** How the value was computed from sourced figures, when it was. */
  derivation: z.string().min(3).max(2000).optional(),
});
/** One parameter of a profile: its value, its unit, its source, and how it was derived when it was. */
export type Param = z.output<typeof ParamSchema>;

/** The zod schema of a cost profile file: strict, every parameter with a value and a source unless `extends` names a profile that has it. */
export const ProfileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,47}$/, 'expected 1-48 lower-case letters, digits, . or -'),
    description: z.string().min(1).max(4000),
    /**
     * The profile this one starts from (its parameters, replaced by any given
     * here): a shipped profile's name, or a .json file beside this one.
     */
    extends: z
      .string()
      .regex(/^(?:[a-z0-9][a-z0-9.-]{0,47}|[^\0]{1,1000}\.json)$/, 'expected the name of a shipped profile or a .json file')
      .optional(),
    /** Where and when a measured profile (host) was measured. */
    measured: z
      .strictObject({
        date: z.string().max(64),
        node: z.string().max(64),
        cpuModel: z.string().max(200),
        cpus: z.number().int().min(1).max(4096),
      })
      .optional(),
    params: z.strictObject(Object.fromEntries(PARAM_NAMES.map((n) => [n, ParamSchema.optional()])) as Record<ParamName, z.ZodOptional<typeof ParamSchema>>),
  })
  .superRefine((p, ctx) => {
    for (const n of PARAM_NAMES) {
      const v = p.params[n];
      if (v === undefined) {
        if (p.extends === undefined) {
          ctx.addIssue({ code: 'custom', path: ['params', n], message: `every parameter needs a value and a source (${PARAMS[n]}), unless "extends" names a profile that has it` });
        }
        continue;
      }
      if (n === 'cores' && v.value < 1) {
        ctx.addIssue({ code: 'custom', path: ['params', n, 'value'], message: 'expected at least 1 processor' });
      }
      if (n === 'diskTransferMBps' && v.value <= 0) {
        ctx.addIssue({ code: 'custom', path: ['params', n, 'value'], message: 'expected a transfer rate > 0' });
      }
      if (n === 'diskOnCpu' && v.value !== 0 && v.value !== 1) {
        ctx.addIssue({ code: 'custom', path: ['params', n, 'value'], message: 'expected 0 or 1' });
      }
    }
  });

/** A cost profile file as validated, before `extends` is resolved: parameters it inherits are missing. */
export type ProfileFile = z.output<typeof ProfileSchema>;

/** A resolved profile: every parameter present (from the file or the profiles it extends). */
export interface Profile {
  name: string;
  description: string;
  /** The file it came from, as shown in messages. */
  file: string;
  measured: ProfileFile['measured'] | null;
  params: Record<ParamName, Param>;
  /** Which file each parameter came from (differs from `file` for inherited ones). */
  from: Record<ParamName, string>;
}

export function profileJsonSchema(): JsonSchemaNode {
  return jsonSchemaOf(
    ProfileSchema,
    'microlith cost profile',
    'A microlith hardware cost profile: what each counted event costs, each figure with its source. Generated from src/costmodel/profile.ts by `npm run schema`; do not edit.',
  );
}

export const PROFILE_FILE: JsonFileKind<ProfileFile> = { what: 'cost profile', schema: ProfileSchema, jsonSchema: profileJsonSchema };

/** Names of the shipped profiles. */
export function shippedProfiles(): string[] {
  return readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** The profile used when none is named. */
export const DEFAULT_PROFILE = 'pentium-pro-1996';

/**
 * A shipped profile by name, or a profile file by path (anything with a / or
 * ending in .json; relative to `dir`, by default the working directory).
 */
export function loadProfile(nameOrPath: string, chain: string[] = [], dir?: { file: string; shown: string }): Profile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  if (!isPath && !shippedProfiles().includes(nameOrPath)) {
    const what = `unknown cost profile '${nameOrPath}' (shipped: ${shippedProfiles().join(', ')}; or give a path to a .json file)`;
    throw new WorkloadError(chain.length ? `${chain[chain.length - 1]}: "extends": ${what}` : what);
  }
  const file = isPath ? resolve(dir ? dirname(dir.file) : '.', nameOrPath) : resolve(PROFILE_DIR, `${nameOrPath}.json`);
  const shown = isPath ? (dir && !isAbsolute(nameOrPath) ? join(dirname(dir.shown), nameOrPath) : nameOrPath) : `profiles/${basename(file)}`;
  if (chain.includes(shown)) throw new WorkloadError(`${shown}: "extends" goes round in a circle (${[...chain, shown].join(' -> ')})`);
  const p = loadJsonFile(file, shown, PROFILE_FILE);
  return resolveProfile(p, shown, chain, file);
}

/** A checked profile file, with the parameters it inherits filled in (`file`: where it lies, for a relative "extends"). */
export function resolveProfile(p: ProfileFile, shown: string, chain: string[] = [], file = resolve(shown)): Profile {
  const parent = p.extends === undefined ? null : loadProfile(p.extends, [...chain, shown], { file, shown });
  if (parent === null && PARAM_NAMES.some((n) => p.params[n] === undefined)) {
    throw new WorkloadError(`${shown}: parameters missing and no "extends": ${PARAM_NAMES.filter((n) => p.params[n] === undefined).join(', ')}`);
  }
  const params = {} as Record<ParamName, Param>;
  const from = {} as Record<ParamName, string>;
  for (const n of PARAM_NAMES) {
    const own = p.params[n];
    if (own !== undefined) {
      params[n] = own;
      from[n] = shown;
    } else {
      params[n] = parent!.params[n];
      from[n] = parent!.from[n];
    }
  }
  return { name: p.name, description: p.description, file: shown, measured: p.measured ?? parent?.measured ?? null, params, from };
}
