/** Process exit codes of {@link runService}. */
export const ExitCode = {
  /** A signal arrived and every stop succeeded in time. */
  Ok: 0,
  /** `build()` threw (after its rollback), or at least one stop failed or passed its own deadline. */
  Failed: 1,
  /** `shutdownTimeoutMs` expired before the stack was closed; the same code as coreutils' `timeout`. */
  DeadlineExpired: 124,
  /** A second signal arrived during shutdown; 128 + SIGINT, what shells report for an interrupted job. */
  SecondSignal: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
