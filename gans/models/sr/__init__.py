"""Super-resolution networks, one file per family: SRCNN / FSRCNN / ESPCN (`srcnn`), SRResNet and the SRGAN
discriminator (`srresnet`), ESRGAN's RRDBNet (`rrdbnet`); `common` holds the layers they share.

Each network maps a low-resolution batch [B, h, w, C] to [B, h*scale, w*scale, C] (SRCNN takes the
bicubic-upscaled image and keeps its size), called `model.apply(variables, x, train=...)`; `train` only
matters to the BatchNorm of SRResNet and the SRGAN discriminator. Each file registers parameter counters in
`gans.models.summary.FAMILIES` with the reference implementation's option names.
"""
