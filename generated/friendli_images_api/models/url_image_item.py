# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="UrlImageItem")


@_attrs_define
class UrlImageItem:
    """
    Attributes:
        seed (int): The seed used during image generation.
        response_format (str): The format of the generated image. One of `url(default)`, `raw`, `png`, `jpeg`, and
            `jpg`.
        url (str): The URL of the generated image.
    """

    seed: int
    response_format: str
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        seed = self.seed

        response_format = self.response_format

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "seed": seed,
                "response_format": response_format,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        seed = d.pop("seed")

        response_format = d.pop("response_format")

        url = d.pop("url")

        url_image_item = cls(
            seed=seed,
            response_format=response_format,
            url=url,
        )

        url_image_item.additional_properties = d
        return url_image_item

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
