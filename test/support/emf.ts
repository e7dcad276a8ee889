/**
 * Reads CloudWatch Embedded Metric Format log lines the way CloudWatch Logs does, checking the
 * rules of the published specification, so a test fails when a line would not become metrics:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 * Written from the specification, independently of lambda/shared/metrics-emf.ts.
 */

/** One metric of an EMF document, as CloudWatch would extract it. */
export interface ExtractedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly unit?: string;
  readonly values: number[];
  /** Dimension name -> value, per dimension set. */
  readonly dimensionSets: Array<Record<string, string>>;
}

/** A line that is an EMF document: its metrics and its other fields. */
export interface EmfDocument {
  readonly timestamp: number;
  readonly metrics: ExtractedMetric[];
  readonly fields: Record<string, unknown>;
}

const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits',
  'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second',
  'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);

/** Undefined for a line that is not an EMF document; throws for one that breaks the specification. */
export function parseEmfLine(line: string): EmfDocument | undefined {
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root) || !('_aws' in root)) return undefined;
  const fields = root as Record<string, unknown>;
  const aws = fields._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown };
  const fail = (rule: string) => {
    throw new Error(`EMF line breaks the specification (${rule}): ${line}`);
  };
  if (typeof aws !== 'object' || aws === null) fail('_aws must be an object');
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp) || aws.Timestamp <= 0) fail('_aws.Timestamp must be epoch milliseconds');
  if (!Array.isArray(aws.CloudWatchMetrics)) fail('_aws.CloudWatchMetrics must be an array');
  const metrics: ExtractedMetric[] = [];
  for (const directive of aws.CloudWatchMetrics as Array<Record<string, unknown>>) {
    const namespace = directive.Namespace;
    if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255) fail('Namespace must be 1-255 characters');
    if (!Array.isArray(directive.Dimensions)) fail('Dimensions must be an array of dimension sets');
    const dimensionSets = (directive.Dimensions as unknown[]).map((set) => {
      if (!Array.isArray(set) || set.length > 30) fail('a dimension set is an array of at most 30 names');
      const values: Record<string, string> = {};
      for (const name of set as unknown[]) {
        if (typeof name !== 'string') fail('dimension names are strings');
        const value = fields[name as string];
        if (typeof value !== 'string' || value.length === 0) fail(`dimension '${String(name)}' needs a non-empty string member at the root`);
        values[name as string] = value as string;
      }
      return values;
    });
    if (!Array.isArray(directive.Metrics) || directive.Metrics.length > 100) fail('Metrics must be an array of at most 100 definitions');
    for (const definition of directive.Metrics as Array<Record<string, unknown>>) {
      const name = definition.Name;
      if (typeof name !== 'string' || name.length < 1 || name.length > 255) fail('a metric Name is 1-255 characters');
      if (definition.Unit !== undefined && !UNITS.has(definition.Unit as string)) fail(`unit '${String(definition.Unit)}' is not a CloudWatch unit`);
      const raw = fields[name as string];
      const values = Array.isArray(raw) ? raw : [raw];
      if (values.length === 0 || values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) fail(`metric '${String(name)}' needs a finite number (or array of them) at the root`);
      metrics.push({ namespace: namespace as string, name: name as string, unit: definition.Unit as string | undefined, values: values as number[], dimensionSets });
    }
  }
  return { timestamp: aws.Timestamp as number, metrics, fields };
}

/** The EMF documents among log lines (lines that are not EMF are skipped). */
export function emfDocuments(lines: readonly string[]): EmfDocument[] {
  return lines.flatMap((line) => {
    const doc = parseEmfLine(line);
    return doc ? [doc] : [];
  });
}

/** The values a set of EMF documents gives one metric of one namespace. */
export function metricValues(docs: readonly EmfDocument[], namespace: string, name: string): number[] {
  return docs.flatMap((d) => d.metrics.filter((m) => m.namespace === namespace && m.name === name).flatMap((m) => m.values));
}
