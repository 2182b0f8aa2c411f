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
  STOWAGE_PUBLIC_KEY: z.string().optional(),
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
  STOWAGE_MULTI_INSTANCE: z.enum(['true', 'false'], { message: 'STOWAGE_MULTI_INSTANCE must be true or false' }).default('false'),
  STOWAGE_REDIS_URL: z.string().refine(isRedisUrl, 'STOWAGE_REDIS_URL must be a redis:// or rediss:// URL with an optional database number, e.g. redis://user:password@host:6379/0').optional(),
  STOWAGE_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'STOWAGE_REDIS_PREFIX must be 1 to 100 letters, digits or . _ : -, e.g. stowage-staging:').optional(),
  STOWAGE_S3_BUCKET: z.string().regex(/^[^\s/]+$/, 'STOWAGE_S3_BUCKET must be a bucket name (no spaces or slashes), e.g. stowage-media').optional(),
  STOWAGE_S3_ENDPOINT: z
    .string()
    .url('STOWAGE_S3_ENDPOINT must be an absolute http(s) URL, e.g. http://minio.internal:9000')
    .refine((u) => /^https?:\/\//i.test(u), 'STOWAGE_S3_ENDPOINT must use http or https')
    .optional(),
  STOWAGE_S3_REGION: z.string().min(1).default('us-east-1'),
  STOWAGE_S3_FORCE_PATH_STYLE: z.enum(['true', 'false'], { message: 'STOWAGE_S3_FORCE_PATH_STYLE must be true or false' }).default('false'),
  STOWAGE_S3_PREFIX: z
    .string()
    .refine(isKeyPrefix, 'STOWAGE_S3_PREFIX must be key segments of letters, digits, . _ - separated by / with no leading slash, e.g. stowage/media')
    .optional(),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Public base of every `url`, without a trailing slash. */
  readonly urlEndpoint: string;
  /** Configured private keys; empty means "generate or load one from the data dir". */
  readonly privateKeys: readonly string[];
  /** Configured public keys (client-side uploads name one); empty means "generate or load one from the data dir". */
  readonly publicKeys: readonly string[];
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
  /** Redis pub/sub for live events across instances; `undefined`: the in-process bus (one instance). */
  readonly redis: RedisConfig | undefined;
  /** Where file bytes live: files under `blobs/` in the data directory (the default), or an S3 bucket. */
  readonly blobStore: BlobStoreConfig;
}

/**
 * Local disk in the data directory, or an S3(-compatible) bucket: `endpoint` unset means AWS; `prefix` (no leading or
 * trailing slash, `''` for none) is put before every key. Credentials come from the AWS SDK's default chain.
 */
export type BlobStoreConfig =
  | { readonly kind: 'local' }
  | { readonly kind: 's3'; readonly bucket: string; readonly endpoint: string | undefined; readonly region: string; readonly forcePathStyle: boolean; readonly prefix: string };

/** SQLite in the data directory, or PostgreSQL at `url` with Stowage's tables in `schema`. */
export type DatabaseConfig = { readonly kind: 'sqlite' } | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

/**
 * The Redis server live events go through, and what its channel names start with: `STOWAGE_REDIS_PREFIX`, else
 * `stowage:<db>:`. Redis pub/sub ignores the database number, so putting it in the channel names is what keeps
 * deployments on different databases of one server from hearing each other.
 */
export interface RedisConfig {
  readonly url: string;
  readonly channelPrefix: string;
}

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

/** `redis://[user:password@]host[:port][/db]` or `rediss://…`: a host, and a path that is a database number or empty. */
function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return ['redis:', 'rediss:'].includes(url.protocol) && url.hostname !== '' && /^\/?(\d+)?$/.test(url.pathname);
  } catch {
    return false;
  }
}

function isPostgresUrl(value: string): boolean {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** `media`, `tenants/a/media/` (a trailing slash is dropped): segments of `[A-Za-z0-9._-]`, none `.` or `..`. */
function isKeyPrefix(value: string): boolean {
  const segments = value.replace(/\/$/, '').split('/');
  return segments.every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== '.' && s !== '..');
}

/** The S3 variables set without `STOWAGE_S3_BUCKET`, which would silently do nothing. */
const S3_SETTINGS = ['STOWAGE_S3_ENDPOINT', 'STOWAGE_S3_REGION', 'STOWAGE_S3_FORCE_PATH_STYLE', 'STOWAGE_S3_PREFIX'] as const;

/** The database a (validated) `STOWAGE_DATABASE_URL` selects: PostgreSQL when set, SQLite when not. Pure. */
export const databaseConfigOf = (url: string | undefined, schema = 'public'): DatabaseConfig => (url ? { kind: 'postgres', url, schema } : { kind: 'sqlite' });

/** The Redis a (validated) `STOWAGE_REDIS_URL` selects, with its channel prefix; none when unset. Pure. */
export const redisConfigOf = (url: string | undefined, prefix?: string): RedisConfig | undefined =>
  url ? { url, channelPrefix: prefix ?? `stowage:${Number(new URL(url).pathname.slice(1) || 0)}:` } : undefined;

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
/**
 * What several instances must share, and so must not keep per process: the metadata (PostgreSQL), the blobs (S3),
 * live events (Redis), and the secrets every instance must agree on (otherwise each would generate its own into its
 * data directory). One problem line per missing setting. Pure.
 */
export function multiInstanceProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const required: [name: string, why: string][] = [
    ['STOWAGE_DATABASE_URL', 'the metadata must be in PostgreSQL (SQLite is one process on one disk)'],
    ['STOWAGE_S3_BUCKET', 'the files must be in an S3 bucket (the local disk is one machine)'],
    ['STOWAGE_REDIS_URL', 'live events must go through Redis (the in-process bus reaches one instance)'],
    ['STOWAGE_PRIVATE_KEY', 'every instance must accept the same API key (a generated one lives in one data directory)'],
    ['STOWAGE_WEBHOOK_SECRET', 'every instance must sign webhooks with the same secret (a generated one lives in one data directory)'],
    ['STOWAGE_PUBLIC_KEY', 'every instance must accept the same public key for browser uploads (a generated one lives in one data directory)'],
  ];
  return required.filter(([name]) => !env[name]).map(([name, why]) => `STOWAGE_MULTI_INSTANCE=true needs ${name}: ${why}`);
}

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
  if (e.STOWAGE_MULTI_INSTANCE === 'true') {
    const missing = multiInstanceProblems(present);
    if (missing.length) throw new ConfigError(missing);
  }
  const database = databaseConfigOf(e.STOWAGE_DATABASE_URL, e.STOWAGE_DATABASE_SCHEMA);
  if (e.STOWAGE_REDIS_PREFIX && !e.STOWAGE_REDIS_URL) throw new ConfigError(['STOWAGE_REDIS_PREFIX set without STOWAGE_REDIS_URL: set the Redis URL to share live events between instances, or unset it']);
  const strayS3 = S3_SETTINGS.filter((name) => present[name] !== undefined);
  if (!e.STOWAGE_S3_BUCKET && strayS3.length) throw new ConfigError([`${strayS3.join(', ')} set without STOWAGE_S3_BUCKET: set the bucket to store files in S3, or unset them`]);
  const blobStore: BlobStoreConfig = e.STOWAGE_S3_BUCKET
    ? {
        kind: 's3',
        bucket: e.STOWAGE_S3_BUCKET,
        endpoint: e.STOWAGE_S3_ENDPOINT,
        region: e.STOWAGE_S3_REGION,
        forcePathStyle: e.STOWAGE_S3_FORCE_PATH_STYLE === 'true',
        prefix: (e.STOWAGE_S3_PREFIX ?? '').replace(/\/$/, ''),
      }
    : { kind: 'local' };
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
    publicKeys: splitList(e.STOWAGE_PUBLIC_KEY),
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
    redis: redisConfigOf(e.STOWAGE_REDIS_URL, e.STOWAGE_REDIS_PREFIX),
    blobStore,
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
