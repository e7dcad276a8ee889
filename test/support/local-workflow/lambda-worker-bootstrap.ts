/**
 * The code a function's worker thread runs, as the Lambda Node.js runtime would: load the
 * bundle once (cold start), then handle one invocation per message with a Lambda context,
 * async and callback handlers alike, JSON-serialising the result and reporting errors as
 * `{errorType, errorMessage, trace}`. Kept as plain JavaScript because a worker cannot load
 * TypeScript; messages are the types below.
 */

/** Main thread -> worker: one invocation. */
export interface InvokeMessage {
  readonly requestId: string;
  readonly eventJson: string;
  /** Epoch ms when the function times out (for getRemainingTimeInMillis). */
  readonly deadline: number;
  readonly context: {
    readonly functionName: string;
    readonly functionVersion: string;
    readonly invokedFunctionArn: string;
    readonly memoryLimitInMB: string;
    readonly logGroupName: string;
    readonly logStreamName: string;
  };
}

/** Worker -> main thread: the module is loaded (init done), or the outcome of one invocation. */
export type ResultMessage =
  | { readonly ready: true }
  | { readonly requestId: string; readonly resultJson: string }
  | { readonly requestId: string; readonly error: { readonly errorType: string; readonly errorMessage: string; readonly trace?: string[] } };

/** Data the worker starts with. */
export interface WorkerBootData {
  readonly bundlePath: string;
  readonly exportName: string;
  /** Math.random() returns 0 in the function (LambdaFunctionPoolOptions.zeroJitter). */
  readonly zeroJitter: boolean;
}

/** Source of the worker (run with `eval: true`). */
export const WORKER_BOOTSTRAP_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

function errorOf(thrown) {
  if (thrown instanceof Error || (thrown && typeof thrown === 'object' && 'name' in thrown && 'message' in thrown)) {
    return { errorType: String(thrown.name || 'Error'), errorMessage: String(thrown.message ?? ''), trace: String(thrown.stack ?? '').split('\\n') };
  }
  return { errorType: typeof thrown, errorMessage: String(thrown), trace: [] };
}

// Before the function's code loads, so its modules and the SDK see it from the start.
if (workerData.zeroJitter) Math.random = () => 0;

let handler;
let initError;
// An ES module (the shipped handlers, .mjs) is imported, a CommonJS bundle required, as Lambda's Node.js runtime does.
const loading = workerData.bundlePath.endsWith('.mjs')
  ? import(require('node:url').pathToFileURL(workerData.bundlePath).href)
  : Promise.resolve().then(() => require(workerData.bundlePath));
loading
  .then((loaded) => {
    handler = loaded[workerData.exportName];
    if (typeof handler !== 'function') {
      initError = { errorType: 'Runtime.HandlerNotFound', errorMessage: require('node:path').basename(workerData.bundlePath).replace(/\.[cm]?js$/, '') + '.' + workerData.exportName + ' is undefined or not exported', trace: [] };
    }
  }, (err) => {
    initError = errorOf(err);
  })
  // Init is over: the function's timeout applies from the first invocation on, as in Lambda.
  .then(() => parentPort.postMessage({ ready: true }));

function runHandler(event, context) {
  if (handler.length < 3) return Promise.resolve().then(() => handler(event, context));
  return new Promise((resolve, reject) => {
    const callback = (err, value) => (err ? reject(err) : resolve(value));
    context.done = callback;
    context.succeed = (value) => resolve(value);
    context.fail = (err) => reject(err);
    const returned = handler(event, context, callback);
    if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
  });
}

parentPort.on('message', async (message) => {
  const { requestId, eventJson, deadline } = message;
  if (initError) {
    parentPort.postMessage({ requestId, error: initError });
    return;
  }
  const context = Object.assign({}, message.context, {
    awsRequestId: requestId,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  });
  let result;
  try {
    result = await runHandler(JSON.parse(eventJson), context);
  } catch (err) {
    parentPort.postMessage({ requestId, error: errorOf(err) });
    return;
  }
  let resultJson;
  try {
    resultJson = result === undefined ? 'null' : JSON.stringify(result);
  } catch (err) {
    parentPort.postMessage({ requestId, error: { errorType: 'Runtime.MarshalError', errorMessage: 'Unable to marshal response: ' + String(err && err.message), trace: [] } });
    return;
  }
  parentPort.postMessage({ requestId, resultJson: resultJson === undefined ? 'null' : resultJson });
});
`;
