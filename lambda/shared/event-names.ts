/**
 * The EventBridge events this library sends. Pure, so the handlers that send them and the
 * constructs' `onRunFinished` / `onModelPromoted` rules that match them share one spelling.
 */

/** EventBridge source of this library's events. */
export const EVENT_SOURCE = 'llama-finetune';
/** EventBridge detail-type of the run outcome event. */
export const OUTCOME_DETAIL_TYPE = 'Fine-tuning Run Finished';
/** EventBridge detail-type of the promotion event. */
export const PROMOTED_DETAIL_TYPE = 'Fine-tuned Model Promoted';
