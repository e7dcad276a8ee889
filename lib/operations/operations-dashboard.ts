/**
 * The widgets of the operations dashboard: runs and their outcome, run and job durations, the
 * F1 of recent runs, errors, dead letters, Provisioned Throughputs left behind, and the alarms.
 * One function per row keeps each graph's choice of metric, statistic and period in one place.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { finetuneMetric } from './custom-metrics';
import { ENVIRONMENT_DIMENSION, FinetuneMetric, METRICS_NAMESPACE, REQUEST_NAME_DIMENSION } from '../../lambda/shared/metric-names';
import { ProvisionedThroughputWatch } from './provisioned-throughput-watch';

/** What the dashboard shows. */
export interface OperationsDashboardInput {
  readonly environmentName: string;
  readonly stateMachine: sfn.IStateMachine;
  /** The workflow's functions (and the watch) by step name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Dead-letter queues by what they hold. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Log group of the score-evaluation step, when runs evaluate. */
  readonly evaluationLogGroup?: logs.ILogGroup;
  /** Log group of the record-outcome step. */
  readonly outcomeLogGroup?: logs.ILogGroup;
  readonly watch?: ProvisionedThroughputWatch;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** Runs are hours long and few: hourly sums and averages read best. */
const RUN_PERIOD = Duration.hours(1);
const FULL = 24;
const HALF = 12;

/** The dashboard's rows, top to bottom. */
export function operationsDashboardRows(input: OperationsDashboardInput): cloudwatch.IWidget[][] {
  return [[header(input)], runRow(input), qualityRow(input), historyRow(input), logRow(input), healthRow(input), alarmRow(input)].filter((row) => row.length > 0);
}

function header(input: OperationsDashboardInput): cloudwatch.IWidget {
  return new cloudwatch.TextWidget({
    width: FULL,
    height: 2,
    markdown: [
      `# Llama 3.2 fine-tuning on Amazon Bedrock: ${input.environmentName}`,
      `Runs start when a run request is uploaded. Custom metrics are in the \`${METRICS_NAMESPACE}\` namespace (dimension Environment = ${input.environmentName}); every log line is JSON with the run id.`,
    ].join('\n\n'),
  });
}

function runRow(input: OperationsDashboardInput): cloudwatch.IWidget[] {
  const sm = input.stateMachine;
  const sum = { period: RUN_PERIOD, statistic: cloudwatch.Stats.SUM };
  // Metric ids must differ across a graph's expressions.
  const minutes = (id: string, metric: cloudwatch.IMetric, label: string, divisor: number) =>
    new cloudwatch.MathExpression({ expression: `${id} / ${divisor}`, usingMetrics: { [id]: metric }, label, period: RUN_PERIOD });
  return [
    new cloudwatch.GraphWidget({
      title: 'Runs started, succeeded and failed (per hour)',
      width: HALF,
      stacked: false,
      left: [
        sm.metricStarted({ ...sum, label: 'started' }),
        sm.metricSucceeded({ ...sum, label: 'succeeded' }),
        sm.metricFailed({ ...sum, label: 'failed' }),
        sm.metricTimedOut({ ...sum, label: 'timed out' }),
        sm.metricAborted({ ...sum, label: 'aborted' }),
      ],
      leftYAxis: { min: 0, label: 'runs', showUnits: false },
    }),
    new cloudwatch.GraphWidget({
      title: 'Run and job duration (minutes)',
      width: HALF,
      left: [
        minutes('runAverage', sm.metricTime({ period: RUN_PERIOD, statistic: cloudwatch.Stats.AVERAGE }), 'run, average', 60_000),
        minutes('runLongest', sm.metricTime({ period: RUN_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }), 'run, longest', 60_000),
        minutes('jobAverage', finetuneMetric(FinetuneMetric.JOB_DURATION, input.environmentName, { period: RUN_PERIOD, statistic: cloudwatch.Stats.AVERAGE }), 'customization job, average', 60),
        minutes('jobLongest', finetuneMetric(FinetuneMetric.JOB_DURATION, input.environmentName, { period: RUN_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }), 'customization job, longest', 60),
      ],
      leftYAxis: { min: 0, label: 'minutes', showUnits: false },
    }),
  ];
}

function qualityRow(input: OperationsDashboardInput): cloudwatch.IWidget[] {
  if (!input.evaluationLogGroup) return [];
  const average = { period: RUN_PERIOD, statistic: cloudwatch.Stats.AVERAGE };
  return [
    new cloudwatch.GraphWidget({
      title: 'SQuAD F1 of recent runs: base vs fine-tuned',
      width: HALF,
      left: [
        finetuneMetric(FinetuneMetric.BASE_F1, input.environmentName, { ...average, label: 'base model F1' }),
        finetuneMetric(FinetuneMetric.FINE_TUNED_F1, input.environmentName, { ...average, label: 'fine-tuned model F1' }),
      ],
      right: [finetuneMetric(FinetuneMetric.RELATIVE_IMPROVEMENT, input.environmentName, { ...average, label: 'relative improvement (%)' })],
      leftYAxis: { min: 0, max: 100, label: 'F1', showUnits: false },
      rightYAxis: { label: '%', showUnits: false },
    }),
    new cloudwatch.LogQueryWidget({
      title: 'Recent evaluations',
      width: HALF,
      logGroupNames: [input.evaluationLogGroup.logGroupName],
      queryLines: ['fields @timestamp, runId, baseF1, fineTunedF1, gate.passed', "filter message = 'evaluation scored'", 'sort @timestamp desc', 'limit 20'],
    }),
  ];
}

/**
 * The SEARCH expression of every request name's fine-tuned F1 in one environment. Request
 * names are chosen per upload, so they cannot be listed at synth: SEARCH finds each
 * (Environment, RequestName) series that has data in the graph's time range (up to 500).
 */
export function fineTunedF1ByRequestNameSearch(environmentName: string): string {
  const quoted = environmentName.replace(/["\\]/g, (c) => `\\${c}`);
  return `SEARCH('{${METRICS_NAMESPACE},${ENVIRONMENT_DIMENSION},${REQUEST_NAME_DIMENSION}} MetricName="${FinetuneMetric.FINE_TUNED_F1}" ${ENVIRONMENT_DIMENSION}="${quoted}"', 'Average', ${RUN_PERIOD.toSeconds()})`;
}

function historyRow(input: OperationsDashboardInput): cloudwatch.IWidget[] {
  if (!input.evaluationLogGroup) return [];
  return [
    new cloudwatch.GraphWidget({
      title: 'Fine-tuned F1 by request name (one line per name; a point per scored run)',
      width: FULL,
      // An empty label is left out, so CloudWatch names each line by its RequestName (without one, CDK labels every line with the whole expression).
      left: [new cloudwatch.SearchExpression({ expression: fineTunedF1ByRequestNameSearch(input.environmentName), label: '', period: RUN_PERIOD })],
      leftYAxis: { min: 0, max: 100, label: 'F1', showUnits: false },
    }),
  ];
}

function logRow(input: OperationsDashboardInput): cloudwatch.IWidget[] {
  const logGroups = Object.values(input.functions).flatMap((fn) => (fn instanceof lambda.Function ? [fn.logGroup.logGroupName] : []));
  const widgets: cloudwatch.IWidget[] = [];
  if (input.outcomeLogGroup) {
    widgets.push(
      new cloudwatch.LogQueryWidget({
        title: 'Recent run outcomes',
        width: HALF,
        logGroupNames: [input.outcomeLogGroup.logGroupName],
        queryLines: ['fields @timestamp, runId, status, error, request', "filter message = 'run outcome recorded'", 'sort @timestamp desc', 'limit 20'],
      }),
    );
  }
  if (logGroups.length > 0) {
    widgets.push(
      new cloudwatch.LogQueryWidget({
        title: 'Recent errors and warnings (every step)',
        width: input.outcomeLogGroup ? HALF : FULL,
        // Logs Insights queries at most 50 log groups at once; the workflow has a dozen.
        logGroupNames: logGroups.slice(0, 50),
        queryLines: ['fields @timestamp, step, runId, message, error.name, error.message', "filter level = 'ERROR' or level = 'WARN'", 'sort @timestamp desc', 'limit 50'],
      }),
    );
  }
  return widgets;
}

function healthRow(input: OperationsDashboardInput): cloudwatch.IWidget[] {
  const fiveMinuteSum = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
  const widgets: cloudwatch.IWidget[] = [
    new cloudwatch.GraphWidget({
      title: 'Lambda errors per step',
      width: input.watch ? 8 : HALF,
      left: Object.entries(input.functions).map(([step, fn]) => fn.metricErrors({ ...fiveMinuteSum, label: step })),
      leftYAxis: { min: 0, showUnits: false },
    }),
    new cloudwatch.GraphWidget({
      title: 'Messages in dead-letter queues',
      width: input.watch ? 8 : HALF,
      left: Object.entries(input.deadLetterQueues).map(([what, queue]) =>
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM, label: what }),
      ),
      leftYAxis: { min: 0, showUnits: false },
    }),
  ];
  if (input.watch) {
    const hours = new cloudwatch.MathExpression({ expression: 'oldestAge / 3600', usingMetrics: { oldestAge: input.watch.metricOldestAge() }, label: 'oldest, age in hours', period: input.watch.interval });
    widgets.push(
      new cloudwatch.GraphWidget({
        title: 'Provisioned Throughputs created by runs (bill by the hour)',
        width: 8,
        left: [hours],
        right: [
          input.watch.metricCount({ label: 'how many exist' }),
          // Deletions Bedrock refused past every retry (the release step, the cleanup): left for the watch.
          finetuneMetric(FinetuneMetric.UNDELETED_PROVISIONED_THROUGHPUTS, input.environmentName, { statistic: cloudwatch.Stats.SUM, period: input.watch.interval, label: 'runs could not delete' }),
        ],
        leftAnnotations: [{ value: input.watch.maxAge.toHours({ integral: false }), label: 'allowed age', color: cloudwatch.Color.RED }],
        leftYAxis: { min: 0, label: 'hours', showUnits: false },
        rightYAxis: { min: 0, label: 'count', showUnits: false },
      }),
    );
  }
  return widgets;
}

function alarmRow(input: OperationsDashboardInput): cloudwatch.IWidget[] {
  if (input.alarms.length === 0) return [];
  return [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: FULL, alarms: [...input.alarms], sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP })];
}
