/**
 * Errors with stable codes. Operators search for codes, so every error a user
 * can see carries one, plus `file:line` when it comes from a file.
 */
export type ErrorCode =
  | 'GEOCDN_CONFIG_INVALID'
  | 'GEOCDN_CONFIG_READ'
  | 'GEOCDN_ZONE_SYNTAX'
  | 'GEOCDN_ZONE_SEMANTIC'
  | 'GEOCDN_ZONE_READ'
  | 'GEOCDN_GEO_INVALID'
  | 'GEOCDN_GEOIP_READ'
  | 'GEOCDN_LISTEN'
  | 'GEOCDN_TLS_CERT'
  | 'GEOCDN_USAGE';

export interface SourceLocation {
  file: string;
  line?: number;
}

export class GeocdnError extends Error {
  readonly code: ErrorCode;
  readonly where: SourceLocation | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, where?: SourceLocation, hint?: string) {
    super(message);
    this.name = 'GeocdnError';
    this.code = code;
    this.where = where;
    this.hint = hint;
  }

  /** `CODE file:line: message` — the form `geocdn check` prints. */
  format(): string {
    const loc = this.where ? ` ${this.where.file}${this.where.line !== undefined ? `:${this.where.line}` : ''}:` : ':';
    return `${this.code}${loc} ${this.message}${this.hint ? ` (hint: ${this.hint})` : ''}`;
  }
}

export function isGeocdnError(e: unknown): e is GeocdnError {
  return e instanceof GeocdnError;
}

/** Several errors at once: a zone or config check reports all it found. */
export class GeocdnErrors extends Error {
  readonly errors: GeocdnError[];
  constructor(errors: GeocdnError[]) {
    super(errors.map((e) => e.format()).join('\n'));
    this.name = 'GeocdnErrors';
    this.errors = errors;
  }
}

/** Each error as its one-line text (code, file:line, message), for a log line or the console. */
export function formatErrors(e: unknown): string[] {
  if (e instanceof GeocdnErrors) return e.errors.map((x) => x.format());
  if (e instanceof GeocdnError) return [e.format()];
  return [String(e)];
}
