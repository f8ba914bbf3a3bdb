// Multi-row SQLite statements for the block commit: one `run` per chunk of rows instead of
// one per row (docs/state.md, "Storing a block"), prepared once per chunk size.
import type Database from 'better-sqlite3';

/**
 * Rows per statement. 32 to 512 measured alike for the state-tree node rows (about a fifth
 * less CPU than a statement per row; docs/state.md "Storing a block"); 64 keeps every
 * statement far below SQLite's 32,766 bound parameters.
 */
export const ROWS_PER_STATEMENT = 64;

/** One row's bound values, in the column order the statement names. */
export type Row = readonly unknown[];

/**
 * A statement over `rows` rows at a time, built by `sql(rows)`. Full chunks share one
 * prepared statement; the last, shorter chunk prepares (once) a statement of its own size,
 * so at most `chunk` statements are ever prepared per kind.
 */
export class MultiRowStatement {
  private readonly bySize = new Map<number, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly sql: (rows: number) => string,
    readonly chunk: number = ROWS_PER_STATEMENT,
  ) {
    if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`chunk must be a positive integer, got ${chunk}`);
  }

  /**
   * Run every row, in order, `chunk` rows per statement; returns SQLite's count of changed
   * rows. Not a transaction of its own: the caller's transaction makes the chunks atomic.
   */
  run(rows: readonly Row[]): number {
    let changes = 0;
    for (let start = 0; start < rows.length; start += this.chunk) {
      const size = Math.min(this.chunk, rows.length - start);
      const params: unknown[] = [];
      for (let i = start; i < start + size; i++) for (const value of rows[i] as Row) params.push(value);
      changes += this.statement(size).run(params).changes;
    }
    return changes;
  }

  private statement(size: number): Database.Statement {
    let stmt = this.bySize.get(size);
    if (stmt === undefined) {
      stmt = this.db.prepare(this.sql(size));
      this.bySize.set(size, stmt);
    }
    return stmt;
  }
}

/** `(?, ?, …)` repeated `rows` times, comma-separated: the VALUES list of a multi-row INSERT. */
export function valueTuples(rows: number, columns: number): string {
  const tuple = `(${Array(columns).fill('?').join(', ')})`;
  return Array(rows).fill(tuple).join(', ');
}

/** `?, ?, …` `rows` times: the list of a multi-row `IN (…)`. */
export function bindList(rows: number): string {
  return Array(rows).fill('?').join(', ');
}
