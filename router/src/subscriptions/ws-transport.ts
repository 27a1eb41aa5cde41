import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '@tansu/platform/logger';
import { createSocketWriters, type SocketWriter } from './socket-writer.ts';

export interface WsExtra {
  socket: WebSocket;
  request: IncomingMessage;
  /** Every frame for this socket goes through it, so frames sent in one turn leave in one write and in order. */
  writer: SocketWriter;
}

/**
 * The graphql-ws protocol on a `ws` server. graphql-ws ships an adapter like this one, but it
 * prints every socket error to the console: a client sending a frame over the size limit is
 * the client's mistake (ws closes it with 1009), not ours. Here socket errors are logged at
 * debug and only a failure of our own handling is an error.
 */
export function serveGraphQLWs(
  options: ServerOptions<Record<string, unknown>, WsExtra>,
  wss: WebSocketServer,
  logger: Logger,
  keepAliveMs = 12_000,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  const writerFor = createSocketWriters();
  wss.options.handleProtocols = handleProtocols;
  wss.on('connection', (socket, request) => {
    socket.on('error', (error) => logger.debug({ err: error }, 'WebSocket closed on a protocol error'));
    // Pings find dead peers: a socket that does not answer within the next interval is dropped.
    let alive = true;
    socket.on('pong', () => {
      alive = true;
    });
    const keepAlive = setInterval(() => {
      if (!alive) return void socket.terminate();
      alive = false;
      socket.ping();
    }, keepAliveMs);
    keepAlive.unref();
    // An upgraded request's socket is the stream the WebSocket writes to.
    const writer = writerFor(socket, request.socket);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => writer.send(data, (error) => (error === undefined || error === null ? resolve() : reject(error)))),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => {
              logger.error({ err: error }, 'WebSocket message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request, writer },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  });
  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners('connection');
    },
  };
}
