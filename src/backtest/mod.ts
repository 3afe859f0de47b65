/**
 * Backtests: alert rules replayed over past periods through the live runs'
 * planning and state machine, with nothing sent. `engine.backtest()` and
 * `kpi backtest` use it.
 *
 * @module
 */

export * from "./run_backtest.ts";
