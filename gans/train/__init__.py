"""Training: pytree states, pure jittable train steps, and the train-and-evaluate loop."""
