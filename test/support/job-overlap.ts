/**
 * The most customization jobs that were training at the same time, from their creation and end
 * times as LocalBedrock records them (a job still running counts until now). Computed after the
 * fact, so it does not depend on sampling while the jobs run.
 */
import { CustomizationJobView } from './local-bedrock';

export function mostJobsAtOnce(jobs: ReadonlyArray<Pick<CustomizationJobView, 'creationTime' | 'endTime'>>, now = new Date()): number {
  // Ends sort before starts at the same instant: a job created as another ends did not overlap it.
  const edges = jobs.flatMap((j) => [
    { at: j.creationTime.getTime(), delta: 1 },
    { at: (j.endTime ?? now).getTime(), delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const edge of edges) {
    running += edge.delta;
    most = Math.max(most, running);
  }
  return most;
}
