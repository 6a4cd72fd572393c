"""amp: mixed-precision steps through torch.amp.GradScaler, with overflowed steps skipped.

Gradients are handed over scaled by the scaler's current scale (a power of two, so
scaling is exact); at the golden's skipped steps one element is inf or NaN. The scaler
starts at 2**10, grows every 3 clean steps and halves on an overflow, so the scale the
optimizer must undo changes during the run. The step is ``scaler.step(optimizer)``, then
``scaler.update()``; a scheduler is stepped only if the scale did not drop, which is how
torch's AMP recipe detects a skipped step.

Optimizers that set ``_step_supports_amp_scaling`` (torch's fused paths) receive
``grad_scale`` and ``found_inf`` from the scaler and must unscale and skip themselves;
the others are skipped by the scaler. The second row calls ``scaler.unscale_(optimizer)``
first (as gradient clipping does): the gradients are then unscaled once, by the scaler,
and must not be unscaled again.

On a skipped step params, state and step count stay as they were. What ships broken
here: a fused kernel that ignores found_inf (pytorch#95781), a step count advanced on a
skipped step, gradients unscaled twice or not at all. The golden's schedule does not
advance on a skipped step either, as GradScaler's recipe has it; the harness steps the
scheduler that way, so a training loop that advanced it anyway (accelerate#4242) is
not something an optimizer under test can do here.
"""
NAME = "amp"
DESCRIPTION = "scaled gradients through torch.amp.GradScaler with inf/NaN steps skipped; unscale_ before step"


def rows(module):
    return [("scaler_step", "amp_skip", {}, {"unscale_first": False}),
            ("unscale_then_step", "amp_skip", {}, {"unscale_first": True})]


def adapter_options(case, dtype):
    return {"amp": {"unscale_first": case.setting["unscale_first"]}}
