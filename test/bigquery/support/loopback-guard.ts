/**
 * Watches every TCP connection the process opens, so a test can prove that nothing left
 * loopback: no Google endpoint, no OAuth token server, no GCE metadata server. `guardLoopback`
 * records the hosts; `guardNetwork` also refuses any that is not loopback.
 */
import net from 'node:net';

export interface LoopbackGuard {
  /** Every host a socket connected (or tried to connect) to. */
  hosts(): string[];
  /** The hosts that were not loopback. */
  outside(): string[];
  restore(): void;
}

export interface NetworkGuard {
  /** The hosts refused, in order. */
  refused: string[];
  restore(): void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Calls `onConnect` with the host of every TCP connection before it is opened (it may throw to
 * refuse it). connect(options[, cb]), connect(port[, host][, cb]), connect(path[, cb]); Node's own
 * callers pass [options, cb] as one array (the "normalized" form). A local (IPC) path is no host.
 */
function watchConnections(onConnect: (host: string) => void): () => void {
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function patched(this: net.Socket, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    if (first && typeof first === 'object') {
      const options = first as { host?: string; path?: string };
      if (!options.path) onConnect(options.host ?? 'localhost');
    } else if (typeof first === 'number') {
      onConnect(typeof args[1] === 'string' ? args[1] : 'localhost');
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return () => void (net.Socket.prototype.connect = original);
}

export function guardLoopback(): LoopbackGuard {
  const hosts: string[] = [];
  const restore = watchConnections((host) => void hosts.push(host));
  return {
    hosts: () => [...hosts],
    outside: () => hosts.filter((h) => !LOOPBACK.test(h)),
    restore,
  };
}

/** Refuses (and records) every connection to anything but loopback, until `restore()`. */
export function guardNetwork(): NetworkGuard {
  const refused: string[] = [];
  const restore = watchConnections((host) => {
    if (LOOPBACK.test(host)) return;
    refused.push(host);
    throw new Error(`test network guard: connection to ${host} refused`);
  });
  return { refused, restore };
}
