/**
 * Which aws-cdk-lib a test project runs against: the floor project loads the devDependency,
 * the newest project the `aws-cdk-lib-newest` alias (jest.config.js maps every require of
 * aws-cdk-lib to it). This proves the mapping took effect, so the newest project tests what
 * it says it tests.
 */
const libraryPackage = require('../../package.json') as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const loaded = (require('aws-cdk-lib/package.json') as { version: string }).version;
const project = (globalThis as { AWS_CDK_LIB_UNDER_TEST?: string }).AWS_CDK_LIB_UNDER_TEST;

describe('the aws-cdk-lib under test', () => {
  const floor = libraryPackage.devDependencies['aws-cdk-lib'];
  const newest = libraryPackage.devDependencies['aws-cdk-lib-newest'].replace(/^npm:aws-cdk-lib@/, '');

  test('is the version its test project names', () => {
    expect(project === 'floor' || project === 'newest').toBe(true);
    expect(loaded).toBe(project === 'newest' ? newest : floor);
  });

  test('the floor is exactly the lowest version the peer dependency allows, and the newest is newer', () => {
    expect(libraryPackage.peerDependencies['aws-cdk-lib']).toBe(`^${floor}`);
    const [floorMinor, newestMinor] = [floor, newest].map((v) => Number(v.split('.')[1]));
    expect(newestMinor).toBeGreaterThan(floorMinor);
  });
});
