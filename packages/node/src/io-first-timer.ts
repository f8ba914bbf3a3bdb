// Timers that yield to network input that is already waiting. Node runs expired timers
// before it reads sockets in each turn of the event loop, so on a busy machine a consensus
// timeout that expired while the loop was blocked fires before the proposal or vote that
// arrived in the meantime is even read: the validator prevotes nil on a block it holds.
// CometBFT queues its timeouts behind received messages; this does the same by running the
// callback in the check phase, which comes after the poll phase that reads the sockets.

/** Like setTimeout, but `fn` runs only after the input pending when the timer expired is read. */
export function setIoFirstTimeout(fn: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(() => setImmediate(fn), ms);
}
