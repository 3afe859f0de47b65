/**
 * Private: how long the history stores keep notice claims (see
 * `claimNotice`). A claim names a notice and the alert state it moves on
 * from, so it only has to outlive the runs that start from that same
 * stored state: overlapping runs, seconds or minutes apart, and a run
 * whose state could not be saved after it sent. Thirty days is far past
 * both and past a monthly schedule's gap; older claims are deleted when a
 * new one is written, so the claims stay few.
 *
 * @module
 */

/** How long a claim is kept, in days. */
export const CLAIM_RETENTION_DAYS = 30;

/**
 * The instant before which claims are deleted when a claim is written at
 * `at`, as an ISO instant; null when `at` is not an instant (nothing is
 * deleted then).
 */
export function claimCutoff(at: string): string | null {
  try {
    return Temporal.Instant.from(at)
      .subtract({ hours: 24 * CLAIM_RETENTION_DAYS })
      .toString();
  } catch {
    return null;
  }
}

/** Whether a claim made at `claimedAt` is older than `cutoff`. */
export function claimedBefore(claimedAt: unknown, cutoff: string): boolean {
  if (typeof claimedAt !== "string") return false;
  try {
    return Temporal.Instant.compare(
      Temporal.Instant.from(claimedAt),
      Temporal.Instant.from(cutoff),
    ) < 0;
  } catch {
    return false;
  }
}
