/**
 * Tells the world a run ended: one SNS message for people, one EventBridge event for programs.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import { eventBridgeClient, snsClient } from './aws-clients';
import { EVENT_SOURCE, OUTCOME_DETAIL_TYPE, OutcomeFacts, outcomeDetail, outcomeSubject, outcomeText } from './outcome-message';

/** Publishes the outcome to the topic and the event bus; throws when either refuses. */
export async function notifyOutcome(facts: OutcomeFacts, topicArn: string, eventBusName: string): Promise<void> {
  await snsClient().send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: outcomeSubject(facts),
      Message: outcomeText(facts),
      MessageAttributes: { outcome: { DataType: 'String', StringValue: facts.status } },
    }),
  );
  const out = await eventBridgeClient().send(
    new PutEventsCommand({
      Entries: [{ Source: EVENT_SOURCE, DetailType: OUTCOME_DETAIL_TYPE, Detail: JSON.stringify(outcomeDetail(facts)), EventBusName: eventBusName }],
    }),
  );
  if (out.FailedEntryCount) {
    throw new Error(`EventBridge refused the outcome event: ${out.Entries?.map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`).join('; ')}`);
  }
}

