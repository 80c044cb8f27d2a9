/**
 * Docker for the container tests, through scripts/docker-engine.sh (the same script a person
 * runs by hand):
 *
 * - an engine that already answers is used as it is, and left running;
 * - in CI (`CI` set) with none, the script installs Debian's docker.io when absent and starts
 *   dockerd; `release()` stops that daemon (and only that one) when the tests are done;
 * - elsewhere with none, the tests are skipped with one note, as the browser tests are.
 *
 * Containers are made and run by testcontainers (11.x: 12.x needs Node 22) on the host's network,
 * so they reach the tests' receivers on 127.0.0.1 and nothing leaves loopback. No image is pulled
 * from anywhere: the base image and the project image are built here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { REPO_ROOT } from '../deploy/dockerfile.js';

// No Ryuk reaper (its image cannot be pulled; the tests remove their containers themselves), and
// no gateway lookup (a /.dockerenv file makes testcontainers think it runs inside a container
// and start a helper image to find the host). Read when the first container is made.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

const ENGINE_SCRIPT = join(REPO_ROOT, 'scripts', 'docker-engine.sh');

export const NO_ENGINE =
  'no Docker engine answers: the container tests need one (scripts/docker-engine.sh up starts ' +
  'one from Debian\'s docker.io, as CI does; scripts/docker-engine.sh down stops it)';

export interface Engine {
  /** Why the container tests are skipped, or null when an engine is there. */
  skip: string | null;
  /** Stops the daemon these tests started; nothing when it was already running. */
  release(): Promise<void>;
}

function engineScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [ENGINE_SCRIPT, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export async function provideEngine(env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const nothing = async () => {};
  if (!env.CI) {
    const status = spawnSync('bash', [ENGINE_SCRIPT, 'status'], { stdio: 'ignore', timeout: 20_000 });
    return { skip: status.status === 0 ? null : NO_ENGINE, release: nothing };
  }
  const up = await engineScript(['up']);
  if (up.code !== 0) throw new Error(`cannot provide a Docker engine in CI: ${up.stderr.trim() || up.stdout.trim()}`);
  if (!up.stdout.startsWith('started')) return { skip: null, release: nothing };
  process.stderr.write(`container tests: ${up.stdout.trim()} dockerd\n`);
  return {
    skip: null,
    async release() {
      const down = await engineScript(['down']);
      if (down.code !== 0) throw new Error(`dockerd did not stop: ${down.stderr.trim()}`);
    },
  };
}

export interface BuiltImage {
  tag: string;
  buildSeconds: number;
  sizeMb: number;
}

/**
 * Builds this checkout's Dockerfile on the local base (once per run: a second build of the same
 * checkout is all layer-cache hits). A failed build throws with the builder's last lines, which
 * testcontainers' own build call would have kept to its debug log.
 */
export async function buildProjectImage(): Promise<BuiltImage> {
  const started = performance.now();
  const build = await engineScript(['image']);
  if (build.code !== 0) {
    const tail = build.stderr.trim().split('\n').slice(-25).join('\n');
    throw new Error(`docker build of the Dockerfile failed (exit ${build.code}):\n${tail}`);
  }
  const tag = build.stdout.trim().split('\n').at(-1)!;
  const client = await getContainerRuntimeClient();
  const inspected = await client.container.dockerode.getImage(tag).inspect();
  return { tag, buildSeconds: (performance.now() - started) / 1000, sizeMb: inspected.Size / 1e6 };
}

export interface ContainerRun {
  code: number;
  stdout: string;
  stderr: string;
  /** From start to exit. */
  seconds: number;
  /** `performance.now()` when the container had exited. */
  exitedAt: number;
}

/** Marks the containers these tests make, so that `removeLeftovers` finds those a failed test left. */
const LABEL = { 'org.example.pem-test': 'container' };

/** A container of `image` as a Cloud Run job task runs it: the image's entry point plus `args`. */
export function jobContainer(image: string, args: string[], env: Record<string, string> = {}): GenericContainer {
  return new GenericContainer(image).withNetworkMode('host').withCommand(args).withEnvironment(env).withLabels(LABEL);
}

/** Without the Ryuk reaper nothing removes a container whose test timed out; this does. */
export async function removeLeftovers(): Promise<void> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const [key, value] = Object.entries(LABEL)[0]!;
  for (const info of await docker.listContainers({ all: true, filters: { label: [`${key}=${value}`] } })) {
    await docker.getContainer(info.Id).remove({ force: true });
  }
}

/** Starts the container, waits for its exit and returns its streams apart, then removes it. */
export async function runToExit(container: GenericContainer, whileRunning?: (started: StartedTestContainer) => Promise<void>): Promise<ContainerRun> {
  const started = await container.start();
  const since = performance.now();
  try {
    const handle = (await getContainerRuntimeClient()).container.getById(started.getId());
    const exited = handle.wait() as Promise<{ StatusCode: number }>;
    if (whileRunning) await whileRunning(started);
    const { StatusCode } = await exited;
    const exitedAt = performance.now();
    const logs = await handle.logs({ stdout: true, stderr: true, follow: false });
    return { code: StatusCode, ...demultiplex(logs as unknown as Buffer), seconds: (exitedAt - since) / 1000, exitedAt };
  } finally {
    await started.stop({ remove: true });
  }
}

/** Sends a signal to the container's PID 1, as Cloud Run does at a task's timeout. */
export async function signal(started: StartedTestContainer, name: 'SIGTERM'): Promise<void> {
  await (await getContainerRuntimeClient()).container.getById(started.getId()).kill({ signal: name });
}

/**
 * Docker's log stream without a TTY: frames of an 8-byte header (stream 1 = stdout, 2 = stderr;
 * bytes 4-7 the length, big-endian) and the payload.
 * https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerAttach
 */
export function demultiplex(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let offset = 0; offset + 8 <= buffer.length; ) {
    const length = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + length);
    (buffer[offset] === 2 ? err : out).push(payload);
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
