/** Leaderboards: of an experiment's variants (contract 4), and of the runs of one request name over time. */
export { BEST_VARIANT_RULE, LEADERBOARD_SCHEMA_VERSION, buildLeaderboard, describeVariantCost } from './leaderboard-model';
export type { Leaderboard, LeaderboardEntry, LeaderboardInput, LeaderboardVariantInput, VariantCost, VariantScores, VariantStanding } from './leaderboard-model';
export { LEADERBOARD_SUMMARY_MAX_CHARS, gateText, hyperParametersText, leaderboardChartSvg, renderLeaderboardHtml, renderLeaderboardMarkdown, renderLeaderboardSummary } from './render-leaderboard';
