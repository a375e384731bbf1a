# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.container_image_generation_body_response_format_type_0 import (
    ContainerImageGenerationBodyResponseFormatType0,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_input import ImageInput


T = TypeVar("T", bound="ContainerImageGenerationBody")


@_attrs_define
class ContainerImageGenerationBody:
    """
    Example:
        {'guidance_scale': 3.5, 'num_inference_steps': 10, 'prompt': 'An orange Lamborghini driving down a hill road at
            night with a beautiful ocean view in the background.'}

    Attributes:
        prompt (str): A text description of the desired image.
        model (None | str | Unset): Routes the request to a specific adapter.
        num_inference_steps (int | Unset): The number of inference steps to use during image generation. Defaults to 20.
            Supported range: [1, 50].
        guidance_scale (float | Unset): Adjusts the alignment of the generated image with the input prompt. Higher
            values (e.g., 8-10) make the output more faithful to the prompt, while lower values (e.g., 1-5) encourage more
            creative freedom. Defaults to 0. This parameter may be irrelevant for certain models, such as `FLUX.Schnell`.
        seed (int | None | Unset): The seed to use for image generation.
        response_format (ContainerImageGenerationBodyResponseFormatType0 | None | Unset): The format in which the
            generated image will be returned. One of `raw` and `jpeg`.
        control_images (list[ImageInput] | None | Unset): Optional input images used to condition or guide the
            generation process (e.g., for ControlNet or image editing models). This field is only applicable when using
            ControlNet or image editing models.
        controlnet_weights (list[float] | None | Unset): A list of weights that determine the influence of each
            ControlNet model in the generation process. Each value must be within [0, 1], where 0 disables the corresponding
            ControlNet and 1 applies it fully. When multiple ControlNet models are used, the list length must match the
            number of control images. If omitted, all ControlNet models default to full influence (1.0). This field is only
            applicable when using ControlNet models.
    """

    prompt: str
    model: None | str | Unset = UNSET
    num_inference_steps: int | Unset = UNSET
    guidance_scale: float | Unset = UNSET
    seed: int | None | Unset = UNSET
    response_format: ContainerImageGenerationBodyResponseFormatType0 | None | Unset = (
        UNSET
    )
    control_images: list[ImageInput] | None | Unset = UNSET
    controlnet_weights: list[float] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        prompt = self.prompt

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        num_inference_steps = self.num_inference_steps

        guidance_scale = self.guidance_scale

        seed: int | None | Unset
        if isinstance(self.seed, Unset):
            seed = UNSET
        else:
            seed = self.seed

        response_format: None | str | Unset
        if isinstance(self.response_format, Unset):
            response_format = UNSET
        elif isinstance(
            self.response_format, ContainerImageGenerationBodyResponseFormatType0
        ):
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
                "prompt": prompt,
            }
        )
        if model is not UNSET:
            field_dict["model"] = model
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
        prompt = d.pop("prompt")

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        num_inference_steps = d.pop("num_inference_steps", UNSET)

        guidance_scale = d.pop("guidance_scale", UNSET)

        def _parse_seed(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        seed = _parse_seed(d.pop("seed", UNSET))

        def _parse_response_format(
            data: object,
        ) -> ContainerImageGenerationBodyResponseFormatType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                response_format_type_0 = (
                    ContainerImageGenerationBodyResponseFormatType0(data)
                )

                return response_format_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                ContainerImageGenerationBodyResponseFormatType0 | None | Unset, data
            )

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

        container_image_generation_body = cls(
            prompt=prompt,
            model=model,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            response_format=response_format,
            control_images=control_images,
            controlnet_weights=controlnet_weights,
        )

        container_image_generation_body.additional_properties = d
        return container_image_generation_body

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
