# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.image_response_format import ImageResponseFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_input import ImageInput


T = TypeVar("T", bound="DedicatedImageGenerationBody")


@_attrs_define
class DedicatedImageGenerationBody:
    """
    Example:
        {'model': '(endpoint-id)', 'num_inference_steps': 10, 'prompt': 'An orange Lamborghini driving down a hill road
            at night with a beautiful ocean view in the background.'}

    Attributes:
        model (str): ID of target endpoint. If you want to send request to specific adapter, use the format
            "YOUR_ENDPOINT_ID:YOUR_ADAPTER_ROUTE". Otherwise, you can just use "YOUR_ENDPOINT_ID" alone.
        prompt (str): A text description of the desired image(s).
        num_inference_steps (int | Unset): The number of inference steps to use during image generation. Defaults to 20.
            Supported range: [1, 50].
        guidance_scale (float | None | Unset): Adjusts the alignment of the generated image with the input prompt.
            Higher values (e.g., 8-10) make the output more faithful to the prompt, while lower values (e.g., 1-5) encourage
            more creative freedom. This parameter may be irrelevant for certain models, such as `FLUX.Schnell`.
        seed (int | None | Unset): The seed to use for image generation.
        response_format (ImageResponseFormat | None | Unset): The format in which the generated image(s) will be
            returned. One of `url(default)`, `raw`, `png`, `jpeg`, and `jpg`.
        control_images (list[ImageInput] | None | Unset): Optional input images used to condition or guide the
            generation process (e.g., for ControlNet or image editing models). This field is only applicable when using
            ControlNet or image editing models.
        controlnet_weights (list[float] | None | Unset): A list of weights that determine the influence of each
            ControlNet model in the generation process. Each value must be within [0, 1], where 0 disables the corresponding
            ControlNet and 1 applies it fully. When multiple ControlNet models are used, the list length must match the
            number of control images. If omitted, all ControlNet models default to full influence (1.0). This field is only
            applicable when using ControlNet models.
    """

    model: str
    prompt: str
    num_inference_steps: int | Unset = UNSET
    guidance_scale: float | None | Unset = UNSET
    seed: int | None | Unset = UNSET
    response_format: ImageResponseFormat | None | Unset = UNSET
    control_images: list[ImageInput] | None | Unset = UNSET
    controlnet_weights: list[float] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        prompt = self.prompt

        num_inference_steps = self.num_inference_steps

        guidance_scale: float | None | Unset
        if isinstance(self.guidance_scale, Unset):
            guidance_scale = UNSET
        else:
            guidance_scale = self.guidance_scale

        seed: int | None | Unset
        if isinstance(self.seed, Unset):
            seed = UNSET
        else:
            seed = self.seed

        response_format: None | str | Unset
        if isinstance(self.response_format, Unset):
            response_format = UNSET
        elif isinstance(self.response_format, ImageResponseFormat):
            response_format = self.response_format.value
        else:
            response_format = self.response_format

        control_images: list[dict[str, Any]] | None | Unset
        if isinstance(self.control_images, Unset):
            control_images = UNSET
        elif isinstance(self.control_images, list):
            control_images = []
            for control_images_type_0_item_data in self.control_images:
                control_images_type_0_item = control_images_type_0_item_data.to_dict()
                control_images.append(control_images_type_0_item)

        else:
            control_images = self.control_images

        controlnet_weights: list[float] | None | Unset
        if isinstance(self.controlnet_weights, Unset):
            controlnet_weights = UNSET
        elif isinstance(self.controlnet_weights, list):
            controlnet_weights = self.controlnet_weights

        else:
            controlnet_weights = self.controlnet_weights

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "prompt": prompt,
            }
        )
        if num_inference_steps is not UNSET:
            field_dict["num_inference_steps"] = num_inference_steps
        if guidance_scale is not UNSET:
            field_dict["guidance_scale"] = guidance_scale
        if seed is not UNSET:
            field_dict["seed"] = seed
        if response_format is not UNSET:
            field_dict["response_format"] = response_format
        if control_images is not UNSET:
            field_dict["control_images"] = control_images
        if controlnet_weights is not UNSET:
            field_dict["controlnet_weights"] = controlnet_weights

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.image_input import ImageInput

        d = dict(src_dict)
        model = d.pop("model")

        prompt = d.pop("prompt")

        num_inference_steps = d.pop("num_inference_steps", UNSET)

        def _parse_guidance_scale(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        guidance_scale = _parse_guidance_scale(d.pop("guidance_scale", UNSET))

        def _parse_seed(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        seed = _parse_seed(d.pop("seed", UNSET))

        def _parse_response_format(data: object) -> ImageResponseFormat | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                response_format_type_0 = ImageResponseFormat(data)

                return response_format_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageResponseFormat | None | Unset, data)

        response_format = _parse_response_format(d.pop("response_format", UNSET))

        def _parse_control_images(data: object) -> list[ImageInput] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                control_images_type_0 = []
                _control_images_type_0 = data
                for control_images_type_0_item_data in _control_images_type_0:
                    control_images_type_0_item = ImageInput.from_dict(
                        control_images_type_0_item_data
                    )

                    control_images_type_0.append(control_images_type_0_item)

                return control_images_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[ImageInput] | None | Unset, data)

        control_images = _parse_control_images(d.pop("control_images", UNSET))

        def _parse_controlnet_weights(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                controlnet_weights_type_0 = cast(list[float], data)

                return controlnet_weights_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        controlnet_weights = _parse_controlnet_weights(
            d.pop("controlnet_weights", UNSET)
        )

        dedicated_image_generation_body = cls(
            model=model,
            prompt=prompt,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            response_format=response_format,
            control_images=control_images,
            controlnet_weights=controlnet_weights,
        )

        dedicated_image_generation_body.additional_properties = d
        return dedicated_image_generation_body

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
