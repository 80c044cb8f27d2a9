/**
 * Records every TCP connection the process opens, so a test can prove that nothing left
 * loopback: no Google endpoint, no OAuth token server, no GCE metadata server.
 */
import net from 'node:net';

export interface LoopbackGuard {
  /** Every host a socket connected (or tried to connect) to. */
  hosts(): string[];
  /** The hosts that were not loopback. */
  outside(): string[];
  restore(): void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

export function guardLoopback(): LoopbackGuard {
  const original = net.Socket.prototype.connect;
  const hosts: string[] = [];
  // connect(options[, cb]), connect(port[, host][, cb]), connect(path[, cb]); Node's own callers
  // pass [options, cb] as one array (the "normalized" form).
  net.Socket.prototype.connect = function patched(this: net.Socket, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    if (first && typeof first === 'object') {
      const options = first as { host?: string; path?: string };
      if (!options.path) hosts.push(options.host ?? 'localhost');
    } else if (typeof first === 'number') {
      hosts.push(typeof args[1] === 'string' ? args[1] : 'localhost');
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return {
    hosts: () => [...hosts],
    outside: () => hosts.filter((h) => !LOOPBACK.test(h)),
    restore() {
      net.Socket.prototype.connect = original;
    },
  };
}
