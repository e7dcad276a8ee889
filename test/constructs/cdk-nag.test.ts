import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../bin/app';
import { readCdkJsonContext } from '../support/cdk-json';

/**
 * cdk-nag's AWS Solutions checks over the real app (every environment in cdk.json, Lambda
 * code bundled): zero unacknowledged findings, and every acknowledgement carries a reason.
 */
describe('cdk-nag AwsSolutionsChecks', () => {
  let app: App;
  beforeAll(() => {
    app = buildApp(new App({ context: readCdkJsonContext() }));
  });

  test('the whole app has no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('every acknowledgement names a precise rule and gives a reason', () => {
    const acknowledgements: Array<{ id: string; reason: string; path: string }> = [];
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (!/acknowledged/i.test(entry.type)) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          acknowledgements.push({ id: id.replace(/^annotation::/i, ''), reason: String(reason), path: construct.node.path });
        }
      }
    }
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const a of acknowledgements) {
      expect(a.id).toMatch(/^AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
      // Wildcard acknowledgements must name the finding, never the whole IAM5 rule.
      if (a.id.startsWith('AwsSolutions-IAM5')) expect(a.id).toMatch(/\[(Resource|Action)::.+\]$/);
      expect(a.reason.length).toBeGreaterThan(40);
    }
  });
});
