"""Real photos for the upload tests, made with Pillow: a phone camera's JPEG carries its
make, model, time and GPS position in EXIF, which the app must not pass on."""
from __future__ import annotations

import io

from PIL import Image, ExifTags, PngImagePlugin

CAMERA = "AcmePhone"
LATITUDE = (39.0, 54.0, 27.0)


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Model] = "X100 Pro"
    exif[ExifTags.Base.DateTime] = "2026:11:30 09:12:44"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: LATITUDE,
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (116.0, 23.0, 29.0)}
    return exif


def jpeg(size=(1600, 1200), orientation: int = 1) -> bytes:
    """A camera-sized JPEG with GPS and camera EXIF (orientation 6: the camera was turned)."""
    im = Image.new("RGB", size, (180, 120, 60))
    im.paste((20, 90, 160), (0, 0, size[0] // 2, size[1] // 4))  # a band, so the picture is not flat
    out = io.BytesIO()
    im.save(out, "JPEG", exif=camera_exif(orientation), quality=90)
    return out.getvalue()


def png(size=(800, 600)) -> bytes:
    """A PNG with a text chunk naming the camera and an EXIF chunk with GPS."""
    im = Image.new("RGBA", size, (30, 160, 90, 255))
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", CAMERA)
    out = io.BytesIO()
    im.save(out, "PNG", pnginfo=info, exif=camera_exif())
    return out.getvalue()


def webp(size=(640, 480)) -> bytes:
    im = Image.new("RGB", size, (200, 200, 40))
    out = io.BytesIO()
    im.save(out, "WEBP", exif=camera_exif())
    return out.getvalue()


def metadata_of(data: bytes) -> dict:
    """What a reader of the file can learn besides the pixels."""
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        return {"exif": dict(exif), "gps": dict(exif.get_ifd(ExifTags.IFD.GPSInfo)),
                "info": {k: v for k, v in im.info.items() if k not in ("jfif", "jfif_version", "jfif_unit",
                                                                      "jfif_density", "dpi", "loop", "background",
                                                                      "duration", "timestamp")},
                "size": im.size, "format": im.format}
