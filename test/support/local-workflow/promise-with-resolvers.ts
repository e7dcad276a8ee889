/**
 * `Promise.withResolvers` (Node 22+), which aws-local-stepfunctions calls for every Task state.
 * Installed here when missing so the interpreter also runs on Node 20.
 */

interface PromiseWithResolvers<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T | PromiseLike<T>) => void;
  readonly reject: (reason?: unknown) => void;
}

/** Adds `Promise.withResolvers` to this realm's Promise when the runtime lacks it; idempotent. */
export function installPromiseWithResolvers(): void {
  const constructor = Promise as unknown as { withResolvers?: unknown };
  if (typeof constructor.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(): PromiseWithResolvers<T> {
      let resolve!: PromiseWithResolvers<T>['resolve'];
      let reject!: PromiseWithResolvers<T>['reject'];
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
