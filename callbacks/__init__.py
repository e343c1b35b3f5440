"""Work done outside a webhook: offers to agents, callbacks, and the RQ jobs behind them."""
