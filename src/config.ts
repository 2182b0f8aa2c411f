import path from 'node:path';
import { z } from 'zod';
import { toBareOrigin } from './http/origin-policy.js';
import { parseTransformation } from './transform/transform-plan.js';
import { DEFAULT_DENIED_TYPES, type TypePolicy } from './upload/type-policy.js';

const MiB = 1024 * 1024;

/** Size limits per plan; ImageKit's live free-plan error names 26214400 bytes (25 MiB). */
export const PLAN_LIMITS = {
  free: { maxFileBytes: 25 * MiB, maxVideoBytes: 25 * MiB },
  paid: { maxFileBytes: 40 * MiB, maxVideoBytes: 300 * MiB },
} as const;

export type Plan = keyof typeof PLAN_LIMITS;

const positiveInt = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n > 0 && Number.isSafeInteger(n), `${name} must be a positive whole number`);

const envSchema = z.object({
  PORT: z
    .string()
    .default('3000')
    .pipe(positiveInt('PORT'))
    .refine((n) => n <= 65535, 'PORT must be at most 65535'),
  HOST: z.string().min(1).default('0.0.0.0'),
  STOWAGE_DATA_DIR: z.string().min(1).default('./data'),
  STOWAGE_URL_ENDPOINT: z
    .string()
    .url('STOWAGE_URL_ENDPOINT must be an absolute http(s) URL')
    .refine((u) => /^https?:\/\//i.test(u), 'STOWAGE_URL_ENDPOINT must use http or https')
    .optional(),
  STOWAGE_PRIVATE_KEY: z.string().optional(),
  STOWAGE_PLAN: z.enum(['free', 'paid'], { message: 'STOWAGE_PLAN must be "free" or "paid"' }).default('paid'),
  STOWAGE_MAX_FILE_SIZE: positiveInt('STOWAGE_MAX_FILE_SIZE').optional(),
  STOWAGE_MAX_VIDEO_SIZE: positiveInt('STOWAGE_MAX_VIDEO_SIZE').optional(),
  STOWAGE_MAX_IMAGE_PIXELS: positiveInt('STOWAGE_MAX_IMAGE_PIXELS').default(100_000_000),
  STOWAGE_URL_FETCH_TIMEOUT_MS: positiveInt('STOWAGE_URL_FETCH_TIMEOUT_MS').default(8000),
  STOWAGE_URL_ALLOWLIST: z.string().default(''),
  STOWAGE_ALLOWED_TYPES: z.string().default(''),
  STOWAGE_DENIED_TYPES: z.string().optional(),
  STOWAGE_ANALYSIS_CONCURRENCY: positiveInt('STOWAGE_ANALYSIS_CONCURRENCY').default(2),
  STOWAGE_FFMPEG_PATH: z.string().optional(),
  STOWAGE_FFPROBE_PATH: z.string().optional(),
  STOWAGE_WEBHOOK_SECRET: z.string().optional(),
  STOWAGE_WEBHOOK_URLS: z.string().default(''),
  STOWAGE_WEBHOOK_TIMEOUT_MS: positiveInt('STOWAGE_WEBHOOK_TIMEOUT_MS').default(30_000),
  STOWAGE_WEBHOOK_RETRY_HOURS: positiveInt('STOWAGE_WEBHOOK_RETRY_HOURS').default(24),
  STOWAGE_WEBHOOK_RETRY_BASE_MS: positiveInt('STOWAGE_WEBHOOK_RETRY_BASE_MS').default(5000),
  STOWAGE_GOOGLE_VISION_API_KEY: z.string().optional(),
  STOWAGE_GOOGLE_VISION_ENDPOINT: z.string().url().optional(),
  STOWAGE_AWS_REKOGNITION_REGION: z.string().optional(),
  STOWAGE_AWS_REKOGNITION_ENDPOINT: z.string().url().optional(),
  STOWAGE_AUTO_TAG_SYNC_MS: positiveInt('STOWAGE_AUTO_TAG_SYNC_MS').default(3000),
  STOWAGE_NAMED_TRANSFORMATIONS: z.string().default(''),
  STOWAGE_TRANSFORM_WAIT_MS: positiveInt('STOWAGE_TRANSFORM_WAIT_MS').default(30_000),
  // Video renders are bounded by what a person waits for and what a small server holds (measured on 2 cores with
  // the bundled ffmpeg): 1080p H.264 encodes at about twice real time in under 0.5 GiB; 4K is 3-4 times slower and
  // needs 1.2 GiB, five HLS renditions up to 1080p 0.95 GiB. So: 1920×1080 pixels, 2 minutes, 1.5 GiB.
  STOWAGE_VIDEO_RENDER_TIMEOUT_MS: positiveInt('STOWAGE_VIDEO_RENDER_TIMEOUT_MS').default(120_000),
  // Upload pre/post transformations run in the background, where nobody waits at a browser: a 300 MB video may take long.
  STOWAGE_VIDEO_JOB_TIMEOUT_MS: positiveInt('STOWAGE_VIDEO_JOB_TIMEOUT_MS').default(30 * 60_000),
  STOWAGE_MAX_VIDEO_OUTPUT_PIXELS: positiveInt('STOWAGE_MAX_VIDEO_OUTPUT_PIXELS').default(1920 * 1080),
  STOWAGE_VIDEO_RENDER_MEMORY_BYTES: positiveInt('STOWAGE_VIDEO_RENDER_MEMORY_BYTES').default(1536 * MiB),
  STOWAGE_TRANSFORM_QUEUE: positiveInt('STOWAGE_TRANSFORM_QUEUE').default(100),
  // 2 GiB: every distinct URL of every public file can make a derivative, so the cache must be bounded; a miss
  // only costs a render again. That holds ~20,000 typical web derivatives (100 KB) or a few dozen HLS packages.
  STOWAGE_DERIVATIVE_CACHE_BYTES: positiveInt('STOWAGE_DERIVATIVE_CACHE_BYTES').default(2 * 1024 * MiB),
  STOWAGE_LOG_LEVEL: z.enum(['silent', 'error', 'warn', 'info', 'debug'], { message: 'STOWAGE_LOG_LEVEL must be one of silent, error, warn, info, debug' }).default('info'),
  STOWAGE_LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { message: 'STOWAGE_LOG_FORMAT must be auto, json or pretty' }).default('auto'),
  STOWAGE_CORS_ORIGINS: z.string().default(''),
  STOWAGE_MAX_QUERY_COST: positiveInt('STOWAGE_MAX_QUERY_COST').default(50_000),
  STOWAGE_METRICS_PUBLIC: z.enum(['true', 'false'], { message: 'STOWAGE_METRICS_PUBLIC must be true or false' }).default('false'),
  // Below the 30 s most orchestrators (Kubernetes, Docker, systemd) wait after SIGTERM before they kill.
  STOWAGE_SHUTDOWN_TIMEOUT_MS: positiveInt('STOWAGE_SHUTDOWN_TIMEOUT_MS').default(25_000),
  // An hour is far longer than any upload takes between writing its bytes and committing its row.
  STOWAGE_JANITOR_GRACE_MS: positiveInt('STOWAGE_JANITOR_GRACE_MS').default(60 * 60_000),
  STOWAGE_JANITOR_INTERVAL_MS: positiveInt('STOWAGE_JANITOR_INTERVAL_MS').default(15 * 60_000),
  STOWAGE_DATABASE_URL: z
    .string()
    .refine(isPostgresUrl, 'STOWAGE_DATABASE_URL must be a postgres:// or postgresql:// URL, e.g. postgres://user@host:5432/db')
    .optional(),
  STOWAGE_DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'STOWAGE_DATABASE_SCHEMA must be a lowercase PostgreSQL identifier (letters, digits, _), e.g. stowage')
    .default('public'),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Public base of every `url`, without a trailing slash. */
  readonly urlEndpoint: string;
  /** Configured private keys; empty means "generate or load one from the data dir". */
  readonly privateKeys: readonly string[];
  readonly plan: Plan;
  readonly limits: { readonly maxFileBytes: number; readonly maxVideoBytes: number; readonly maxImagePixels: number };
  readonly urlFetch: { readonly timeoutMs: number; readonly maxRedirects: number; readonly allowlist: readonly string[] };
  readonly types: TypePolicy;
  readonly analysis: { readonly concurrency: number; readonly ffmpegPath: string | undefined; readonly ffprobePath: string | undefined };
  readonly webhooks: { readonly secret: string | undefined; readonly urls: readonly string[]; readonly timeoutMs: number; readonly retryWindowMs: number; readonly retryBaseMs: number };
  readonly extensions: { readonly syncBudgetMs: number; readonly googleVision: { readonly apiKey: string; readonly endpoint: string | undefined } | undefined; readonly awsRekognition: { readonly region: string; readonly endpoint: string | undefined } | undefined };
  /** Named transformations (`n-<name>`) besides ik_ml_thumbnail: name → transformation string. */
  readonly namedTransformations: Readonly<Record<string, string>>;
  /**
   * How long a delivery request waits for its render before a 503; how long ffmpeg may run on one video for a
   * delivery (`videoTimeoutMs`) and for an upload transformation job (`videoJobTimeoutMs`).
   */
  readonly transform: { readonly waitMs: number; readonly videoTimeoutMs: number; readonly videoJobTimeoutMs: number; readonly maxQueued: number; readonly video: VideoRenderLimits };
  /** Most bytes of derivatives (renders, thumbnails, stream packages) kept; the least recently used are evicted. */
  readonly derivativeCache: { readonly maxBytes: number };
  readonly logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** `json` lines, readable `pretty` lines, or `auto`: pretty when stderr is a terminal. */
  readonly logFormat: 'auto' | 'json' | 'pretty';
  /** Browser origins besides the server's own that may call the API with credentials; the largest query cost executed. */
  readonly http: { readonly corsOrigins: readonly string[]; readonly maxQueryCost: number };
  /** Whether `/metrics` is served without the private key (for a scraper on a trusted network). */
  readonly metrics: { readonly public: boolean };
  /** On SIGTERM/SIGINT, how long in-flight requests and running jobs may take before they are cut. */
  readonly shutdown: { readonly timeoutMs: number };
  /** How often the janitor collects orphans (temp objects, blobs with no row, derivatives of deleted versions), and how old one must be. */
  readonly janitor: { readonly intervalMs: number; readonly graceMs: number };
  /** Where the metadata lives: SQLite in the data directory (the default), or the PostgreSQL database at `url`. */
  readonly database: DatabaseConfig;
}

/** SQLite in the data directory, or PostgreSQL at `url` with Stowage's tables in `schema`. */
export type DatabaseConfig = { readonly kind: 'sqlite' } | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

/** What one ffmpeg video render may take: frames of at most `maxOutputPixels`, `memoryBytes` of address space. */
export interface VideoRenderLimits {
  readonly maxOutputPixels: number;
  readonly memoryBytes: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function isPostgresUrl(value: string): boolean {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** The database a (validated) `STOWAGE_DATABASE_URL` selects: PostgreSQL when set, SQLite when not. Pure. */
export const databaseConfigOf = (url: string | undefined, schema = 'public'): DatabaseConfig => (url ? { kind: 'postgres', url, schema } : { kind: 'sqlite' });

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Builds the typed configuration from environment variables. Pure: reads only `env`.
 * @throws ConfigError listing every bad variable with what was expected.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  const database = databaseConfigOf(e.STOWAGE_DATABASE_URL, e.STOWAGE_DATABASE_SCHEMA);
  const plan = PLAN_LIMITS[e.STOWAGE_PLAN];
  const allowlist = splitList(e.STOWAGE_URL_ALLOWLIST);
  const badAllow = allowlist.filter((entry) => !isValidAllowEntry(entry));
  if (badAllow.length) {
    throw new ConfigError(badAllow.map((b) => `STOWAGE_URL_ALLOWLIST: "${b}" is neither a host name, an IP address nor a CIDR range`));
  }
  const corsEntries = splitList(e.STOWAGE_CORS_ORIGINS);
  const badOrigins = corsEntries.filter((entry) => toBareOrigin(entry) === undefined);
  if (badOrigins.length) {
    throw new ConfigError(badOrigins.map((b) => `STOWAGE_CORS_ORIGINS: "${b}" is not an origin; expected scheme, host and optional port, e.g. https://app.example.com`));
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.STOWAGE_DATA_DIR),
    urlEndpoint: (e.STOWAGE_URL_ENDPOINT ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    privateKeys: splitList(e.STOWAGE_PRIVATE_KEY),
    plan: e.STOWAGE_PLAN,
    limits: {
      maxFileBytes: e.STOWAGE_MAX_FILE_SIZE ?? plan.maxFileBytes,
      maxVideoBytes: e.STOWAGE_MAX_VIDEO_SIZE ?? plan.maxVideoBytes,
      maxImagePixels: e.STOWAGE_MAX_IMAGE_PIXELS,
    },
    urlFetch: { timeoutMs: e.STOWAGE_URL_FETCH_TIMEOUT_MS, maxRedirects: 5, allowlist },
    types: {
      allowed: splitList(e.STOWAGE_ALLOWED_TYPES),
      denied: e.STOWAGE_DENIED_TYPES === undefined ? DEFAULT_DENIED_TYPES : splitList(e.STOWAGE_DENIED_TYPES),
    },
    analysis: { concurrency: e.STOWAGE_ANALYSIS_CONCURRENCY, ffmpegPath: e.STOWAGE_FFMPEG_PATH, ffprobePath: e.STOWAGE_FFPROBE_PATH },
    webhooks: {
      secret: e.STOWAGE_WEBHOOK_SECRET,
      urls: splitList(e.STOWAGE_WEBHOOK_URLS),
      timeoutMs: e.STOWAGE_WEBHOOK_TIMEOUT_MS,
      retryWindowMs: e.STOWAGE_WEBHOOK_RETRY_HOURS * 3600 * 1000,
      retryBaseMs: e.STOWAGE_WEBHOOK_RETRY_BASE_MS,
    },
    extensions: {
      syncBudgetMs: e.STOWAGE_AUTO_TAG_SYNC_MS,
      googleVision: e.STOWAGE_GOOGLE_VISION_API_KEY ? { apiKey: e.STOWAGE_GOOGLE_VISION_API_KEY, endpoint: e.STOWAGE_GOOGLE_VISION_ENDPOINT } : undefined,
      awsRekognition: e.STOWAGE_AWS_REKOGNITION_REGION ? { region: e.STOWAGE_AWS_REKOGNITION_REGION, endpoint: e.STOWAGE_AWS_REKOGNITION_ENDPOINT } : undefined,
    },
    namedTransformations: parseNamedTransformations(e.STOWAGE_NAMED_TRANSFORMATIONS),
    transform: {
      waitMs: e.STOWAGE_TRANSFORM_WAIT_MS,
      videoTimeoutMs: e.STOWAGE_VIDEO_RENDER_TIMEOUT_MS,
      videoJobTimeoutMs: e.STOWAGE_VIDEO_JOB_TIMEOUT_MS,
      maxQueued: e.STOWAGE_TRANSFORM_QUEUE,
      video: { maxOutputPixels: e.STOWAGE_MAX_VIDEO_OUTPUT_PIXELS, memoryBytes: e.STOWAGE_VIDEO_RENDER_MEMORY_BYTES },
    },
    derivativeCache: { maxBytes: e.STOWAGE_DERIVATIVE_CACHE_BYTES },
    logLevel: e.STOWAGE_LOG_LEVEL,
    logFormat: e.STOWAGE_LOG_FORMAT,
    http: { corsOrigins: corsEntries.map((entry) => toBareOrigin(entry) as string), maxQueryCost: e.STOWAGE_MAX_QUERY_COST },
    metrics: { public: e.STOWAGE_METRICS_PUBLIC === 'true' },
    shutdown: { timeoutMs: e.STOWAGE_SHUTDOWN_TIMEOUT_MS },
    janitor: { intervalMs: e.STOWAGE_JANITOR_INTERVAL_MS, graceMs: e.STOWAGE_JANITOR_GRACE_MS },
    database,
  };
}

function isValidAllowEntry(entry: string): boolean {
  if (entry.includes('/')) {
    const [addr, bits] = entry.split('/');
    return !!addr && /^\d+$/.test(bits ?? '') && (/^[\d.]+$/.test(addr) || addr.includes(':'));
  }
  return /^[A-Za-z0-9.:\-[\]]+$/.test(entry);
}

/** `banner=w-1200,h-400;square=w-300,h-300,fo-auto` → `{ banner: "w-1200,h-400", … }`, each one checked. */
function parseNamedTransformations(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of raw.split(';').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim();
    if (eq < 1 || !/^[A-Za-z0-9_-]+$/.test(name) || !value) {
      throw new ConfigError([`STOWAGE_NAMED_TRANSFORMATIONS: "${entry}" must be name=transformation, e.g. banner=w-1200,h-400`]);
    }
    try {
      const plan = parseTransformation(value);
      if (plan.some((step) => step.n !== undefined)) throw new Error('a named transformation cannot use another one');
    } catch (error) {
      throw new ConfigError([`STOWAGE_NAMED_TRANSFORMATIONS: "${name}": ${(error as Error).message}`]);
    }
    out[name] = value;
  }
  return out;
}
