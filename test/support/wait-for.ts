/**
 * Waits until `condition` holds, checking every 10 ms; fails after `timeoutMs` with `what`.
 * Tests wait on a condition (a line printed, a call held, an event recorded), never on a clock:
 * on a loaded machine a fixed pause may end before the thing it waits for has happened.
 * Generous by default: a loaded CI machine is slow, and a wait that ends early is no cost.
 */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
