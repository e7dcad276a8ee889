/**
 * Tells the world a run ended: one SNS message for people, one EventBridge event for programs.
 * Telling is the last thing a run does, after its outcome is recorded; a refusal to deliver
 * (SNS or EventBridge refuse, or throttle past the SDK's retries) never changes that outcome.
 * It is logged and counted (the NotificationFailures metric, which raises an alarm) instead.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import { FinetuneMetric } from './metric-names';
import { eventBridgeClient, snsClient } from './aws-clients';
import { Logger } from './logger';
import { emitMetrics } from './metrics-emf';
import { EVENT_SOURCE, OUTCOME_DETAIL_TYPE, OutcomeFacts, outcomeDetail, outcomeSubject, outcomeText } from './outcome-message';

/** One notification that was not delivered. */
export interface NotificationFailure {
  readonly channel: 'sns' | 'eventbridge';
  readonly error: string;
  readonly message: string;
}

/**
 * Publishes the outcome to the topic and to the event bus, each on its own (a refused message
 * does not keep the event from being sent). Returns what was not delivered; never throws.
 */
export async function notifyOutcome(facts: OutcomeFacts, topicArn: string, eventBusName: string): Promise<NotificationFailure[]> {
  const failures: NotificationFailure[] = [];
  try {
    await snsClient().send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: outcomeSubject(facts),
        Message: outcomeText(facts),
        MessageAttributes: { outcome: { DataType: 'String', StringValue: facts.status } },
      }),
    );
  } catch (err) {
    failures.push({ channel: 'sns', error: (err as Error).name, message: (err as Error).message });
  }
  try {
    const out = await eventBridgeClient().send(
      new PutEventsCommand({
        Entries: [{ Source: EVENT_SOURCE, DetailType: OUTCOME_DETAIL_TYPE, Detail: JSON.stringify(outcomeDetail(facts)), EventBusName: eventBusName }],
      }),
    );
    if (out.FailedEntryCount) {
      const entry = out.Entries?.find((e) => e.ErrorCode);
      failures.push({ channel: 'eventbridge', error: entry?.ErrorCode ?? 'FailedEntry', message: entry?.ErrorMessage ?? 'EventBridge refused the outcome event' });
    }
  } catch (err) {
    failures.push({ channel: 'eventbridge', error: (err as Error).name, message: (err as Error).message });
  }
  return failures;
}

/**
 * {@link notifyOutcome}, then reports what was not delivered: an error line per refusal (with
 * the run id `log` carries) and the NotificationFailures metric. Returns whether all was delivered.
 */
export async function announceOutcome(log: Logger, facts: OutcomeFacts, topicArn: string, eventBusName: string): Promise<boolean> {
  const failures = await notifyOutcome(facts, topicArn, eventBusName);
  for (const failure of failures) {
    log.error('run outcome not announced; the outcome is recorded and stands', { channel: failure.channel, error: failure.error, errorMessage: failure.message, status: facts.status });
  }
  if (failures.length > 0) emitMetrics(log, [{ name: FinetuneMetric.NOTIFICATION_FAILURES, value: failures.length, unit: 'Count' }], facts.environmentName);
  return failures.length === 0;
}
