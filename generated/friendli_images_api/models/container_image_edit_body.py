# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.container_image_edit_body_response_format_type_0 import (
    ContainerImageEditBodyResponseFormatType0,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_input import ImageInput


T = TypeVar("T", bound="ContainerImageEditBody")


@_attrs_define
class ContainerImageEditBody:
    """
    Example:
        {'guidance_scale': 0.0, 'image': '@/path/to/file/image.png', 'num_inference_steps': 20, 'prompt': 'Add a red
            sports car in the foreground.'}

    Attributes:
        image (ImageInput | list[ImageInput]): The image(s) to edit. Must be in a supported image format.
        prompt (str): A text description of the desired image.
        model (None | str | Unset): Routes the request to a specific adapter.
        num_inference_steps (int | Unset): The number of inference steps to use during image generation. Defaults to 20.
            Supported range: [1, 50].
        guidance_scale (float | Unset): Adjusts the alignment of the generated image with the input prompt. Higher
            values (e.g., 8-10) make the output more faithful to the prompt, while lower values (e.g., 1-5) encourage more
            creative freedom. Defaults to 0. This parameter may be irrelevant for certain models, such as `FLUX.Schnell`.
        seed (int | None | Unset): The seed to use for image generation.
        response_format (ContainerImageEditBodyResponseFormatType0 | None | Unset): The format in which the generated
            image will be returned. One of `raw` and `jpeg`.
    """

    image: ImageInput | list[ImageInput]
    prompt: str
    model: None | str | Unset = UNSET
    num_inference_steps: int | Unset = UNSET
    guidance_scale: float | Unset = UNSET
    seed: int | None | Unset = UNSET
    response_format: ContainerImageEditBodyResponseFormatType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.image_input import ImageInput

        image: dict[str, Any] | list[dict[str, Any]]
        if isinstance(self.image, ImageInput):
            image = self.image.to_dict()
        else:
            image = []
            for image_type_1_item_data in self.image:
                image_type_1_item = image_type_1_item_data.to_dict()
                image.append(image_type_1_item)

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
            self.response_format, ContainerImageEditBodyResponseFormatType0
        ):
            response_format = self.response_format.value
        else:
            response_format = self.response_format

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "image": image,
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

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.image_input import ImageInput

        d = dict(src_dict)

        def _parse_image(data: object) -> ImageInput | list[ImageInput]:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                image_type_0 = ImageInput.from_dict(data)

                return image_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, list):
                raise TypeError()
            image_type_1 = []
            _image_type_1 = data
            for image_type_1_item_data in _image_type_1:
                image_type_1_item = ImageInput.from_dict(image_type_1_item_data)

                image_type_1.append(image_type_1_item)

            return image_type_1

        image = _parse_image(d.pop("image"))

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
        ) -> ContainerImageEditBodyResponseFormatType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                response_format_type_0 = ContainerImageEditBodyResponseFormatType0(data)

                return response_format_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ContainerImageEditBodyResponseFormatType0 | None | Unset, data)

        response_format = _parse_response_format(d.pop("response_format", UNSET))

        container_image_edit_body = cls(
            image=image,
            prompt=prompt,
            model=model,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            response_format=response_format,
        )

        container_image_edit_body.additional_properties = d
        return container_image_edit_body

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
