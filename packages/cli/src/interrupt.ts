/** Set when the user pressed Ctrl-C: errors caused by stopping the work are not reported. */
export const interruption = { requested: false };
