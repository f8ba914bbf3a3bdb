// The one error type of the chain (engine side, chain.ts) and the application (application.ts).

/** Thrown when a block or commit from a proposer or peer breaks a chain rule, or the store is corrupt. */
export class ChainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ChainError';
  }
}
