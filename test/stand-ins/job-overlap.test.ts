/** mostJobsAtOnce: the demo's and the experiment bench's count of jobs training at the same time. */
import { mostJobsAtOnce } from '../support/job-overlap';

const at = (ms: number) => new Date(ms);

describe('mostJobsAtOnce', () => {
  test('counts overlapping jobs; a job created as another ends does not overlap it', () => {
    // Two waves of two, the second starting exactly when the first ends.
    const waves = [
      { creationTime: at(0), endTime: at(100) },
      { creationTime: at(5), endTime: at(100) },
      { creationTime: at(100), endTime: at(200) },
      { creationTime: at(100), endTime: at(190) },
    ];
    expect(mostJobsAtOnce(waves)).toBe(2);
    expect(mostJobsAtOnce([...waves, { creationTime: at(50), endTime: at(150) }])).toBe(3);
  });

  test('a job still training counts until now; no jobs is 0', () => {
    expect(mostJobsAtOnce([{ creationTime: at(0), endTime: at(10) }, { creationTime: at(20) }], at(30))).toBe(1);
    expect(mostJobsAtOnce([{ creationTime: at(0) }, { creationTime: at(20) }], at(30))).toBe(2);
    expect(mostJobsAtOnce([])).toBe(0);
  });
});
