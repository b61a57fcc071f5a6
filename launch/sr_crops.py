"""Side-by-side crops of one photograph super-resolved by bicubic upscaling and by trained runs, next to the
original, each titled with its whole-image PSNR / SSIM (Y channel, the evaluation's protocol):

  python -m launch.sr_crops --image set14:baboon --runs SRResNet=DIR1,SRGAN=DIR2 --box 100,60,96 \\
      --zoom 2 --out sr_crops.png

`--image` is an image file or <split>:<name> of the natural_images photographs (GANS_NATURAL_IMAGES_DIR), e.g.
set5:butterfly. The low-resolution input is made from it as in evaluation (MATLAB bicubic, uint8).
"""
from absl import flags

from launch import common

flags.DEFINE_string("image", None, "High-resolution image: a file, or <split>:<name> (set5:butterfly).")
flags.DEFINE_list("runs", None, "name=workdir of super-resolution runs of one scale, in column order.")
flags.DEFINE_list("box", None, "top,left,size of the square crop in high-resolution pixels.")
flags.DEFINE_integer("zoom", 2, "Each crop is shown this many times its pixel size (nearest neighbour).")
flags.DEFINE_string("out", None, "Where the PNG figure goes.")
flags.mark_flags_as_required(["image", "runs", "box", "out"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans import runs, visualize
  from gans.errors import UserError
  from gans.train import style_task
  pairs = [r.split("=", 1) for r in FLAGS.runs]
  if any(len(p) != 2 or not all(p) for p in pairs):
    raise UserError(f"--runs takes name=workdir entries, got {FLAGS.runs}")
  try:
    box = tuple(int(v) for v in FLAGS.box)
  except ValueError:
    box = ()
  if len(box) != 3:
    raise UserError(f"--box takes top,left,size (three integers), got {','.join(FLAGS.box)}")
  if FLAGS.zoom < 1:
    raise UserError(f"--zoom must be at least 1, got {FLAGS.zoom}")
  panels = runs.super_resolution_panels(style_task.read_image(FLAGS.image), dict(pairs), box)
  titles = []
  for name, _, score in panels:
    titles.append(name if name == "original" else f"{name}: {score['psnr']:.2f} dB / {score['ssim']:.3f}")
    print(f"{name}: PSNR {score['psnr']:.2f} dB, SSIM {score['ssim']:.4f}", flush=True)
  visualize.save_labelled_grid([[crop for _, crop, _ in panels]], FLAGS.out, titles, zoom=FLAGS.zoom)
  print(f"wrote {FLAGS.out}", flush=True)


if __name__ == "__main__":
  common.run(main)
