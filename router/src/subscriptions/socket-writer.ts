import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** Past this many bytes queued for a socket, a subscription waits for its frame to be written before taking its next event. */
export const MAX_BUFFERED_BYTES = 64 * 1024;

export interface SocketWriter {
  /** Queues a text frame; `written` runs once it went to the kernel (or could not be sent on a closed socket). */
  send(data: string, written?: (error?: Error) => void): void;
  /** Whether frames pile up in memory because the peer does not read them as fast as they come. */
  readonly backlogged: boolean;
}

/**
 * Writers for the sockets of one server. The frames sent on one socket in the same turn go
 * out in one write: the socket is corked at its first frame and uncorked when frames start
 * going to another socket, or once the turn's microtasks have run. An event fanned out to
 * many subscriptions of a socket (delivered one after another) costs one system call there
 * instead of one per subscription, and the first sockets' frames leave while later ones are
 * still being made. Frames keep the order they were sent in; ws's per-frame cork nests inside.
 */
export function createSocketWriters(maxBufferedBytes = MAX_BUFFERED_BYTES) {
  let corked: Duplex | undefined;
  let scheduled = false;
  const uncork = () => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  const flush = () => {
    scheduled = false;
    uncork();
  };
  return (socket: WebSocket, stream: Duplex): SocketWriter => ({
    send(data, written) {
      // As ws does for a closed socket: `written` never runs before send returns.
      if (socket.readyState !== socket.OPEN) return void (written === undefined ? undefined : process.nextTick(written));
      if (corked !== stream) {
        uncork();
        corked = stream;
        stream.cork();
        if (!scheduled) {
          scheduled = true;
          process.nextTick(flush);
        }
      }
      socket.send(data, written);
    },
    get backlogged() {
      return socket.bufferedAmount > maxBufferedBytes;
    },
  });
}
