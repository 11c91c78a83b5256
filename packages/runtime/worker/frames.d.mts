/** Types of frames.mjs, the framing shared by src/worker-client.ts and the child ort-child.mjs. */
import type { Socket } from 'node:net';

/** The byte chunks of one frame, ready to write in order. */
export function encodeFrame(message: unknown): Uint8Array[];
/** Writes one frame to a socket (corked: the header and the buffers leave together). */
export function writeFrame(socket: Socket, message: unknown): void;
/** A push(chunk) function that calls `onFrame` with every complete message. */
export function frameReader(onFrame: (message: unknown) => void): (chunk: Uint8Array) => void;
