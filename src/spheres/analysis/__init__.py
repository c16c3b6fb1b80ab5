"""Reading results: a sweep's store, estimates with their intervals, and the figures' style."""
