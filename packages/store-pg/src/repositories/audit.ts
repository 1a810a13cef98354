import { AUDIT_ACTIONS, type AuditAction } from "@omnidaemon/protocol";

// Operator actions the audit log records: the protocol's vocabulary, re-exported for this package's own files.
export { AUDIT_ACTIONS, type AuditAction };

export interface NewAuditEntry {
  /** Who did it, e.g. `cli:alice`, `api:token`, `worker:<id>`. */
  actor: string;
  action: AuditAction;
  topic?: string | null;
  agent?: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: AuditAction;
  topic: string | null;
  agent: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditListOptions {
  topic?: string;
  agent?: string;
  /** 1…1000. @default 100 */
  limit?: number;
}

export interface AuditRepository {
  record(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first. */
  list(options?: AuditListOptions): Promise<AuditEntry[]>;
}
