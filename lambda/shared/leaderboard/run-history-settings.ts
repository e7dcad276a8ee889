/**
 * Bounds of the history kept per request name (lambda/shared/leaderboard/run-history.ts). Pure
 * (no CDK import), so the construct that checks the setting and the handlers that apply it
 * read the same numbers.
 */

/** How many of a request name's latest runs its history leaderboard shows, unless configured. */
export const DEFAULT_RUN_HISTORY_LENGTH = 20;

/** The most it may show: one ListObjectsV2 page (S3 returns at most 1,000 keys per request), so reads stay bounded. */
export const MAX_RUN_HISTORY_LENGTH = 1000;
