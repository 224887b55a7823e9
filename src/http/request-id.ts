import { randomBytes } from 'node:crypto';

/** Ids one epoch hands out before drawing new random bits (the counter's 24 bits). */
const EPOCH_SIZE = 1 << 24;

/**
 * Request ids without a random draw per request.
 *
 * `x-amz-request-id` keeps AWS's shape, 16 upper-case hex digits: 40 random
 * bits drawn once per epoch, then a 24-bit counter. Ids of one epoch differ
 * by construction; when the counter wraps (after 16,777,216 ids) the epoch
 * draws new random bits, and every process (so every restart) starts its own
 * epoch. Two ids can only collide when two epochs draw the same 40 bits: a
 * birthday bound over epochs rather than over requests, far below that of 64
 * random bits per request.
 *
 * `x-amz-id-2` (the host id, opaque base64 on AWS) is 18 random bytes of the
 * epoch in base64 followed by the request id: 40 characters of the base64
 * alphabet, distinct whenever the request ids are.
 *
 * One generator per process (module state on purpose): servers sharing a
 * process share the counter, which keeps their ids distinct too.
 */
class RequestIds {
  private prefix = '';
  private host = '';
  private next = EPOCH_SIZE;

  /** The next request id and its host id. */
  take(): { requestId: string; hostId: string } {
    if (this.next >= EPOCH_SIZE) this.newEpoch();
    const n = this.next++;
    const requestId = this.prefix + (EPOCH_SIZE + n).toString(16).slice(1).toUpperCase();
    return { requestId, hostId: this.host + requestId };
  }

  private newEpoch(): void {
    const r = randomBytes(23);
    this.prefix = r.subarray(0, 5).toString('hex').toUpperCase();
    this.host = r.subarray(5).toString('base64');
    this.next = 0;
  }
}

const ids = new RequestIds();

/** A fresh (x-amz-request-id, x-amz-id-2) pair; see RequestIds. */
export function newRequestIds(): { requestId: string; hostId: string } {
  return ids.take();
}
